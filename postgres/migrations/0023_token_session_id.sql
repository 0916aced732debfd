-- A portal link's session id (Svix's AppPortalAccessIn.sessionId), kept by the portal session
-- the link opens: expire-all with sessionIds ends only the tokens of those sessions.
ALTER TABLE tokens ADD COLUMN session_id TEXT;
