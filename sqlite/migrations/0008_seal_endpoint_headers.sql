-- Endpoints' custom headers (credentials such as Authorization among them) are stored sealed
-- under the main key, like signing secrets. SQL cannot encrypt: the migration's Go step
-- (internal/sqlcodec.SealHeadersStep) rewrites the rows that hold them as clear JSON, in this
-- migration's transaction. The column stays TEXT.
SELECT 1;
