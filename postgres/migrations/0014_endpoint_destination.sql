-- An endpoint's destination (hookline.Destination: a message broker's type, connection URL with
-- its credentials, and target) as JSON sealed under the main key; NULL for an HTTP endpoint.
-- Only SetEndpointDestination writes it.
ALTER TABLE endpoints ADD COLUMN destination_sealed TEXT;
