-- An endpoint's receiver settings (hookline.Receiver: a client certificate and key for mutual
-- TLS, a private server CA, OAuth 2.0 client credentials) as JSON sealed under the main key;
-- NULL for a plain endpoint. Only UpdateEndpointReceiver writes it.
ALTER TABLE endpoints ADD COLUMN receiver_sealed TEXT;
