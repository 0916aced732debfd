-- An endpoint's JavaScript transformation (hookline.Transformation: code, enabled, updatedAt)
-- as JSON; NULL when it never had one. Only SetEndpointTransformation writes it.
ALTER TABLE endpoints ADD COLUMN transformation TEXT;
