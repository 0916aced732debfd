-- Endpoints' custom headers (credentials such as Authorization among them) are stored sealed
-- under the main key, like signing secrets: the column becomes TEXT, since a sealed value is
-- not JSON. SQL cannot encrypt: the migration's Go step (internal/sqlcodec.SealHeadersStep)
-- rewrites the rows that hold clear JSON, in this migration's transaction.
ALTER TABLE endpoints ALTER COLUMN headers DROP DEFAULT;
ALTER TABLE endpoints ALTER COLUMN headers TYPE TEXT USING headers::text;
ALTER TABLE endpoints ALTER COLUMN headers SET DEFAULT 'null';
