package api

import (
	"net/http"

	"github.com/hookline/hookline/openapi"
)

// Error statuses shared by many routes.
var (
	readErrors  = []int{400, 401, 404, 422}
	writeErrors = []int{400, 401, 403, 404, 409, 413, 422}
)

var idempotencyHeader = []openapi.Param{{Name: "Idempotency-Key",
	Description: "Makes the POST safe to retry: a repeat with the same key returns the first response."}}

// routeTable lists every API route once: the mux pattern, the handler and the description that
// the OpenAPI document is generated from.
func (a *API) routeTable() []route {
	op := func(method, path, id, tag, summary string, status int, req, resp, query any, errs []int, h handlerFunc) route {
		o := openapi.Operation{Method: method, Path: path, ID: id, Tag: tag, Summary: summary, Status: status,
			Request: req, Response: resp, Query: query, Errors: errs}
		if method == http.MethodPost {
			o.ExtraHeaders = idempotencyHeader
		}
		return route{op: o, handler: h}
	}
	const (
		app  = "/api/v1/app/{app_id}"
		ep   = app + "/endpoint/{endpoint_id}"
		opEp = "/api/v1/operational-webhook/endpoint"
	)
	health := op("GET", "/api/v1/health", "v1.health.get", "Health", "Check that the server and its database answer", 204, nil, nil, nil, []int{503}, a.health)
	health.op.Public = true
	// Responses with a token's text are never stored for Idempotency-Key replays.
	noReplay := func(rt route) route {
		rt.noReplay = true
		rt.op.ExtraHeaders = nil
		return rt
	}
	// Portal session tokens may call these routes too.
	portalToo := func(rt route) route {
		rt.portal = true
		return rt
	}
	return []route{
		health,

		op("GET", "/api/v1/app", "v1.application.list", "Application", "List applications", 200, nil, ListResponse[ApplicationOut]{}, ApplicationListQuery{}, readErrors, a.listApplications),
		op("POST", "/api/v1/app", "v1.application.create", "Application", "Create an application", 201, ApplicationIn{}, ApplicationOut{}, CreateApplicationQuery{}, writeErrors, a.createApplication),
		op("GET", app, "v1.application.get", "Application", "Get an application", 200, nil, ApplicationOut{}, nil, readErrors, a.getApplication),
		op("PUT", app, "v1.application.update", "Application", "Replace an application (creates it when absent)", 200, ApplicationIn{}, ApplicationOut{}, nil, writeErrors, a.updateApplication),
		op("PATCH", app, "v1.application.patch", "Application", "Change some fields of an application", 200, ApplicationPatch{}, ApplicationOut{}, nil, writeErrors, a.patchApplication),
		op("DELETE", app, "v1.application.delete", "Application", "Delete an application and everything it owns", 204, nil, nil, nil, writeErrors, a.deleteApplication),

		op("GET", "/api/v1/event-type", "v1.event-type.list", "Event Type", "List event types", 200, nil, ListResponse[EventTypeOut]{}, EventTypeListQuery{}, readErrors, a.listEventTypes),
		op("POST", "/api/v1/event-type", "v1.event-type.create", "Event Type", "Create an event type", 201, EventTypeIn{}, EventTypeOut{}, nil, writeErrors, a.createEventType),
		op("GET", "/api/v1/event-type/{event_type_name}", "v1.event-type.get", "Event Type", "Get an event type", 200, nil, EventTypeOut{}, nil, readErrors, a.getEventType),
		op("PUT", "/api/v1/event-type/{event_type_name}", "v1.event-type.update", "Event Type", "Replace an event type (creates it when absent)", 200, EventTypeUpdate{}, EventTypeOut{}, nil, writeErrors, a.updateEventType),
		op("PATCH", "/api/v1/event-type/{event_type_name}", "v1.event-type.patch", "Event Type", "Change some fields of an event type", 200, EventTypePatch{}, EventTypeOut{}, nil, writeErrors, a.patchEventType),
		op("DELETE", "/api/v1/event-type/{event_type_name}", "v1.event-type.delete", "Event Type", "Archive an event type (or delete it with expunge=true)", 204, nil, nil, EventTypeDeleteQuery{}, writeErrors, a.deleteEventType),
		op("GET", "/api/v1/event-type/{event_type_name}/retry-schedule", "v1.event-type.get-retry-schedule", "Event Type", "Get the event type's own retry schedule (null: the default applies)", 200, nil, RetryScheduleInOut{}, nil, readErrors, a.getRetrySchedule),
		op("PUT", "/api/v1/event-type/{event_type_name}/retry-schedule", "v1.event-type.set-retry-schedule", "Event Type", "Set the retry schedule of the event type's messages (null: back to the default)", 200, RetryScheduleInOut{}, RetryScheduleInOut{}, nil, writeErrors, a.setRetrySchedule),
		op("POST", "/api/v1/event-type/import/openapi", "v1.event-type.import-openapi", "Event Type", "Create or update event types from the webhooks of an OpenAPI document", 200, EventTypeImportOpenApiIn{}, EventTypeImportOpenApiOut{}, nil, writeErrors, a.importEventTypesOpenAPI),
		op("POST", "/api/v1/event-type/export/openapi", "v1.event-type.export-openapi", "Event Type", "Export the event types as the webhooks of an OpenAPI document", 202, nil, ExportEventTypeOut{}, nil, []int{401, 403}, a.exportEventTypesOpenAPI),

		op("GET", app+"/endpoint", "v1.endpoint.list", "Endpoint", "List an application's endpoints", 200, nil, ListResponse[EndpointOut]{}, ListQuery{}, readErrors, a.listEndpoints),
		op("POST", app+"/endpoint", "v1.endpoint.create", "Endpoint", "Create an endpoint", 201, EndpointIn{}, EndpointOut{}, nil, writeErrors, a.createEndpoint),
		op("GET", ep, "v1.endpoint.get", "Endpoint", "Get an endpoint", 200, nil, EndpointOut{}, nil, readErrors, a.getEndpoint),
		op("PUT", ep, "v1.endpoint.update", "Endpoint", "Replace an endpoint's settings (creates it when absent)", 200, EndpointUpdate{}, EndpointOut{}, nil, writeErrors, a.updateEndpoint),
		op("PATCH", ep, "v1.endpoint.patch", "Endpoint", "Change some fields of an endpoint", 200, EndpointPatch{}, EndpointOut{}, nil, writeErrors, a.patchEndpoint),
		op("DELETE", ep, "v1.endpoint.delete", "Endpoint", "Delete an endpoint", 204, nil, nil, nil, writeErrors, a.deleteEndpoint),
		op("GET", ep+"/secret", "v1.endpoint.get-secret", "Endpoint", "Get the endpoint's signing secret", 200, nil, EndpointSecretOut{}, nil, readErrors, a.getEndpointSecret),
		op("POST", ep+"/secret/rotate", "v1.endpoint.rotate-secret", "Endpoint", "Rotate the signing secret; the old one stays valid for the grace period", 204, EndpointSecretRotateIn{}, nil, nil, writeErrors, a.rotateEndpointSecret),
		op("GET", ep+"/headers", "v1.endpoint.get-headers", "Endpoint", "Get the endpoint's custom headers", 200, nil, EndpointHeadersOut{}, nil, readErrors, a.getEndpointHeaders),
		op("PUT", ep+"/headers", "v1.endpoint.update-headers", "Endpoint", "Replace the endpoint's custom headers", 204, EndpointHeadersIn{}, nil, nil, writeErrors, a.updateEndpointHeaders),
		op("PATCH", ep+"/headers", "v1.endpoint.patch-headers", "Endpoint", "Set or remove (null) some custom headers", 204, EndpointHeadersPatchIn{}, nil, nil, writeErrors, a.patchEndpointHeaders),
		op("GET", ep+"/mtls", "v1.endpoint.get-mtls", "Endpoint", "Tell whether the endpoint has a client certificate (404 when not); the certificate and key are not answered", 200, nil, EndpointMtlsConfigOut{}, nil, readErrors, a.getEndpointMTLS),
		op("GET", ep+"/mtls-config", "v1.endpoint.get-mtls-2", "Endpoint", "Tell whether the endpoint has a client certificate", 200, nil, EndpointMtlsOut{}, nil, readErrors, a.getEndpointMTLSConfig),
		op("PUT", ep+"/mtls", "v1.endpoint.set-mtls-config", "Endpoint", "Set the client certificate and key presented to receivers that ask for one (mutual TLS)", 204, EndpointMtlsConfigIn{}, nil, nil, writeErrors, a.setEndpointMTLS),
		op("DELETE", ep+"/mtls", "v1.endpoint.delete-mtls-config", "Endpoint", "Remove the endpoint's client certificate", 204, nil, nil, nil, writeErrors, a.deleteEndpointMTLS),
		op("GET", ep+"/ca", "v1.endpoint.get-server-ca", "Endpoint", "Get the CA certificates the receiver's certificate must chain to (null: the system's roots)", 200, nil, EndpointServerCaOut{}, nil, readErrors, a.getEndpointServerCA),
		op("PUT", ep+"/ca", "v1.endpoint.set-server-ca", "Endpoint", "Set the CA certificates the receiver's certificate must chain to (null: the system's roots)", 204, EndpointServerCaIn{}, nil, nil, writeErrors, a.setEndpointServerCA),
		op("GET", ep+"/oauth", "v1.endpoint.get-oauth", "Endpoint", "Get the endpoint's OAuth 2.0 client, without its secret (404 when it has none)", 200, nil, EndpointOauthConfigOut{}, nil, readErrors, a.getEndpointOAuth),
		op("GET", ep+"/oauth-config", "v1.endpoint.get-oauth-2", "Endpoint", "Tell whether the endpoint has an OAuth 2.0 client, and which", 200, nil, EndpointOauthOut{}, nil, readErrors, a.getEndpointOAuthConfig),
		op("PUT", ep+"/oauth", "v1.endpoint.set-oauth-config", "Endpoint", "Set the OAuth 2.0 client-credentials grant whose access token deliveries carry", 204, EndpointOauthConfigIn{}, nil, nil, writeErrors, a.setEndpointOAuth),
		op("DELETE", ep+"/oauth", "v1.endpoint.delete-oauth-config", "Endpoint", "Remove the endpoint's OAuth 2.0 client", 204, nil, nil, nil, writeErrors, a.deleteEndpointOAuth),
		op("GET", ep+"/destination", "v1.endpoint.get-destination", "Endpoint", "Get the endpoint's type (http or a message broker) and its broker's URL, without the password, and target (Hookline extension)", 200, nil, EndpointDestinationOut{}, nil, readErrors, a.getEndpointDestination),
		op("PUT", ep+"/destination", "v1.endpoint.set-destination", "Endpoint", "Make the endpoint publish its deliveries to a message broker, or send them to its url again (type http) (Hookline extension)", 200, EndpointDestinationIn{}, EndpointDestinationOut{}, nil, writeErrors, a.setEndpointDestination),
		op("GET", ep+"/transformation", "v1.endpoint.transformation.get", "Endpoint", "Get the endpoint's transformation", 200, nil, EndpointTransformationOut{}, nil, readErrors, a.getEndpointTransformation),
		op("PATCH", ep+"/transformation", "v1.endpoint.transformation.patch", "Endpoint", "Set the endpoint's transformation code, or enable or disable it", 204, EndpointTransformationPatch{}, nil, nil, writeErrors, a.patchEndpointTransformation),
		op("POST", ep+"/transformation/simulate", "v1.endpoint.transformation.simulate", "Endpoint", "Run a transformation on a payload and show the request a delivery would send", 200, TransformationSimulateIn{}, TransformationSimulateOut{}, nil, writeErrors, a.simulateEndpointTransformation),
		op("GET", ep+"/stats", "v1.endpoint.get-stats", "Endpoint", "Count the endpoint's messages by status", 200, nil, EndpointStatsOut{}, EndpointStatsQuery{}, readErrors, a.getEndpointStats),

		op("GET", app+"/msg", "v1.message.list", "Message", "List an application's messages, newest first", 200, nil, ListResponse[MessageOut]{}, MessageListQuery{}, readErrors, a.listMessages),
		op("POST", app+"/msg", "v1.message.create", "Message", "Send a message to every matching endpoint", 202, MessageIn{}, MessageOut{}, MessageCreateQuery{}, writeErrors, a.createMessage),
		op("GET", app+"/msg/{msg_id}", "v1.message.get", "Message", "Get a message by id or eventId", 200, nil, MessageOut{}, MessageGetQuery{}, readErrors, a.getMessage),
		op("GET", app+"/msg/{msg_id}/raw", "v1.message.get-raw-payload", "Message", "Get a message's payload as the exact text it was sent with", 200, nil, MessageRawPayloadOut{}, nil, readErrors, a.getRawPayload),
		op("DELETE", app+"/msg/{msg_id}/content", "v1.message.expunge-content", "Message", "Delete a message's payload and its attempts' response bodies for good (operator tokens)", 204, nil, nil, nil, writeErrors, a.expungeMessageContent),
		op("POST", app+"/msg/expunge-all-contents", "v1.message.expunge-all-contents", "Message", "Delete the payloads of every message of the application for good, in a background task (operator tokens)", 202, nil, ExpungeAllContentsOut{}, nil, writeErrors, a.expungeAllContents),
		op("POST", "/api/v1/msg/broadcast", "v1.message.broadcast", "Message", "Send one message to every application, in a background task (operator tokens)", 202, MessageBroadcastIn{}, MessageBroadcastOut{}, nil, writeErrors, a.broadcastMessage),
		op("POST", app+"/msg/bulk-expunge", "v1.message.bulk-expunge-content", "Message", "Delete the payloads of up to 250 messages for good (operator tokens)", 200, BulkExpungeContentsIn{}, BulkExpungeContentsOut{}, nil, writeErrors, a.bulkExpungeContents),
		op("POST", app+"/msg/precheck/active", "v1.message.precheck", "Message", "Tell whether an enabled endpoint would receive a message of this event type and channels", 200, MessagePrecheckIn{}, MessagePrecheckOut{}, nil, writeErrors, a.precheckMessage),
		op("POST", app+"/msg/search", "v1.message.search", "Message", "Search an application's messages, newest first", 200, MessageSearchIn{}, ListResponse[MessageOut]{}, nil, writeErrors, a.searchMessages),
		op("GET", app+"/events", "v1.message.events", "Message", "Read the stream of an application's messages, oldest first, from an iterator", 200, nil, MessageEventsOut{}, MessageEventsQuery{}, readErrors, a.messageEvents),
		op("POST", ep+"/msg/test-attempt", "v1.message.test-attempt", "Message", "Send a message to one endpoint now and answer with the attempt", 201, MessageIn{}, MessageAttemptOut{}, nil, writeErrors, a.testAttempt),

		op("GET", ep+"/msg", "v1.message-attempt.list-attempted-messages", "Message Attempt", "List the messages sent to an endpoint, with their status there", 200, nil, ListResponse[EndpointMessageOut]{}, EndpointMessageListQuery{}, readErrors, a.listAttemptedMessages),
		op("GET", app+"/attempt/endpoint/{endpoint_id}", "v1.message-attempt.list-by-endpoint", "Message Attempt", "List an endpoint's attempts, newest first", 200, nil, ListResponse[MessageAttemptOut]{}, AttemptListQuery{}, readErrors, a.listAttemptsByEndpoint),
		op("GET", app+"/attempt/msg/{msg_id}", "v1.message-attempt.list-by-msg", "Message Attempt", "List a message's attempts, newest first", 200, nil, ListResponse[MessageAttemptOut]{}, AttemptListQuery{}, readErrors, a.listAttemptsByMessage),
		op("GET", app+"/msg/{msg_id}/endpoint/{endpoint_id}/attempt", "v1.message-attempt.list-by-endpoint-deprecated", "Message Attempt", "List a message's attempts to one endpoint", 200, nil, ListResponse[MessageAttemptOut]{}, AttemptListQuery{}, readErrors, a.listAttemptsByMessage),
		op("GET", app+"/msg/{msg_id}/attempt/{attempt_id}", "v1.message-attempt.get", "Message Attempt", "Get an attempt", 200, nil, MessageAttemptOut{}, AttemptGetQuery{}, readErrors, a.getAttempt),
		op("DELETE", app+"/msg/{msg_id}/attempt/{attempt_id}/content", "v1.message-attempt.expunge-content", "Message Attempt", "Delete an attempt's response body for good (operator tokens)", 204, nil, nil, nil, writeErrors, a.expungeAttemptContent),
		op("GET", app+"/msg/{msg_id}/attempt/{attempt_id}/headers", "v1.message-attempt.get-headers", "Message Attempt", "Get the request headers an attempt sent", 200, nil, MessageAttemptHeadersOut{}, nil, readErrors, a.getAttemptHeaders),
		op("GET", app+"/msg/{msg_id}/endpoint", "v1.message-attempt.list-attempted-destinations", "Message Attempt", "List the endpoints a message went to, with its status at each", 200, nil, ListResponse[MessageEndpointOut]{}, DestinationListQuery{}, readErrors, a.listAttemptedDestinations),
		op("POST", app+"/msg/{msg_id}/endpoint/{endpoint_id}/resend", "v1.message-attempt.resend", "Message Attempt", "Send a message to an endpoint again, now", 202, nil, EmptyResponse{}, nil, writeErrors, a.resend),
		op("POST", ep+"/recover", "v1.endpoint.recover", "Endpoint", "Send again the messages that failed at the endpoint since a time", 202, RecoverIn{}, RecoverOut{}, nil, writeErrors, a.recoverEndpoint),
		op("POST", ep+"/replay-missing", "v1.endpoint.replay-missing", "Endpoint", "Send the endpoint the messages since a time that never went to it (a background task)", 202, ReplayIn{}, ReplayOut{}, nil, writeErrors, a.replayMissing),
		op("POST", ep+"/bulk-replay", "v1.endpoint.bulk-replay", "Endpoint", "Send the endpoint again the messages sent to it since a time, filtered (a background task)", 202, BulkReplayIn{}, ReplayOut{}, nil, writeErrors, a.bulkReplay),
		op("POST", ep+"/cancel-msgs", "v1.endpoint.cancel-msgs", "Endpoint", "Cancel the endpoint's pending messages created before a time", 204, CancelMsgsIn{}, nil, nil, writeErrors, a.cancelMsgs),
		op("GET", ep+"/rate-limit-status", "v1.endpoint.get-throttling-status", "Endpoint", "Whether the endpoint's rate limit holds its deliveries back in this process", 200, nil, EndpointThrottleRateStatusOut{}, nil, readErrors, a.rateLimitStatus),
		op("POST", ep+"/send-example", "v1.endpoint.send-example", "Endpoint", "Send a test.webhook, or an event type's example, to the endpoint", 202, EventExampleIn{}, MessageOut{}, nil, writeErrors, a.sendExample),

		op("GET", opEp, "v1.operational-webhook-endpoint.list", "Operational Webhook", "List the operator's operational-webhook endpoints", 200, nil, ListResponse[OperationalWebhookEndpointOut]{}, ListQuery{}, []int{401, 403, 422}, a.listOperationalEndpoints),
		op("POST", opEp, "v1.operational-webhook-endpoint.create", "Operational Webhook", "Create an operational-webhook endpoint", 201, OperationalWebhookEndpointIn{}, OperationalWebhookEndpointOut{}, nil, writeErrors, a.createOperationalEndpoint),
		op("GET", opEp+"/{endpoint_id}", "v1.operational-webhook-endpoint.get", "Operational Webhook", "Get an operational-webhook endpoint", 200, nil, OperationalWebhookEndpointOut{}, nil, []int{401, 403, 404}, a.getOperationalEndpoint),
		op("PUT", opEp+"/{endpoint_id}", "v1.operational-webhook-endpoint.update", "Operational Webhook", "Replace an operational-webhook endpoint", 200, OperationalWebhookEndpointUpdate{}, OperationalWebhookEndpointOut{}, nil, writeErrors, a.updateOperationalEndpoint),
		op("DELETE", opEp+"/{endpoint_id}", "v1.operational-webhook-endpoint.delete", "Operational Webhook", "Delete an operational-webhook endpoint", 204, nil, nil, nil, []int{401, 403, 404}, a.deleteOperationalEndpoint),
		op("GET", opEp+"/{endpoint_id}/secret", "v1.operational-webhook-endpoint.get-secret", "Operational Webhook", "Get an operational-webhook endpoint's signing secret", 200, nil, EndpointSecretOut{}, nil, []int{401, 403, 404}, a.getOperationalEndpointSecret),
		op("POST", opEp+"/{endpoint_id}/secret/rotate", "v1.operational-webhook-endpoint.rotate-secret", "Operational Webhook", "Rotate an operational-webhook endpoint's signing secret", 204, EndpointSecretRotateIn{}, nil, nil, writeErrors, a.rotateOperationalEndpointSecret),
		op("GET", opEp+"/{endpoint_id}/headers", "v1.operational-webhook-endpoint.get-headers", "Operational Webhook", "Get an operational-webhook endpoint's custom headers", 200, nil, OperationalWebhookEndpointHeadersOut{}, nil, []int{401, 403, 404}, a.getOperationalEndpointHeaders),
		op("PUT", opEp+"/{endpoint_id}/headers", "v1.operational-webhook-endpoint.update-headers", "Operational Webhook", "Replace an operational-webhook endpoint's custom headers", 204, OperationalWebhookEndpointHeadersIn{}, nil, nil, writeErrors, a.updateOperationalEndpointHeaders),

		noReplay(op("POST", "/api/v1/auth/app-portal-access/{app_id}", "v1.authentication.app-portal-access", "Authentication", "Create a magic link to the customer portal of an application", 200, AppPortalAccessIn{}, AppPortalAccessOut{}, nil, writeErrors, a.appPortalAccess)),
		portalToo(op("POST", "/api/v1/auth/logout", "v1.authentication.logout", "Authentication", "End the portal session token that calls it", 204, nil, nil, nil, []int{401, 403}, a.logout)),
		op("POST", "/api/v1/auth/app/{app_id}/expire-all", "v1.authentication.expire-all", "Authentication", "End every portal link, portal session and message token of an application", 204, ApplicationTokenExpireIn{}, nil, nil, writeErrors, a.expireAll),
		portalToo(op("GET", "/api/v1/auth/whoami", "v1.authentication.whoami", "Authentication", "Describe the token of the request", 200, nil, WhoamiOut{}, nil, []int{401, 403}, a.whoami)),
		noReplay(op("POST", "/api/v1/auth/app/{app_id}/create-message-token", "v1.authentication.create-message-token", "Authentication", "Create a token that can only create messages of one application", 200, CreateTokenIn{}, ApiTokenOut{}, nil, writeErrors, a.createMessageToken)),

		op("GET", app+"/attempt/endpoint/{endpoint_id}/count", "v1.message-attempt.count-by-endpoint", "Message Attempt", "Count an endpoint's attempts, with the list's filters", 200, nil, CountOut{}, AttemptCountQuery{}, readErrors, a.countAttemptsByEndpoint),
		op("GET", "/api/v1/app/stats/count-active", "v1.application.count-active", "Application", "Count the applications with at least one endpoint", 200, nil, ActiveAppCount{}, CountActiveQuery{}, []int{401, 403, 422}, a.countActiveApps),
		op("GET", app+"/stats/attempts", "v1.application.stats.attempts", "Application", "Count an application's attempt outcomes in a range, by event type", 200, nil, AppAttemptStatsOut{}, AppAttemptStatsQuery{}, readErrors, a.appAttemptStats),
		op("GET", "/api/v1/stats/app/{app_id}/attempt", "v1.stats.app-attempts", "Statistics", "Count an application's attempt outcomes per period", 200, nil, AttemptStatisticsResponse{}, AttemptStatisticsQuery{}, readErrors, a.appAttemptStatistics),
		op("GET", "/api/v1/stats/endpoint/count", "v1.statistics.endpoint-count", "Statistics", "Count the enabled and disabled endpoints of every application", 200, nil, EndpointCountOut{}, EndpointCountQuery{}, []int{401, 403, 422}, a.countEndpoints),
		op("POST", "/api/v1/stats/usage/app", "v1.statistics.aggregate-app-stats", "Statistics", "Count each application's message destinations in a range (a background task)", 202, AppUsageStatsIn{}, AppUsageStatsOut{}, nil, writeErrors, a.appUsageStats),
		op("PUT", "/api/v1/stats/usage/event-types", "v1.statistics.aggregate-event-types", "Statistics", "List the event types each application's endpoints subscribe to (a background task)", 202, nil, AggregateEventTypesOut{}, nil, []int{401, 403}, a.aggregateEventTypes),

		op("GET", "/api/v1/background-task", "v1.background-task.list", "Background Task", "List background tasks, newest first", 200, nil, ListResponse[BackgroundTaskOut]{}, BackgroundTaskListQuery{}, readErrors, a.listBackgroundTasks),
		op("GET", "/api/v1/background-task/{task_id}", "v1.background-task.get", "Background Task", "Get a background task: its progress, then its result", 200, nil, BackgroundTaskOut{}, nil, readErrors, a.getBackgroundTask),

		op("GET", "/api/v1/token", "v1.token.list", "Token", "List API tokens (Hookline extension)", 200, nil, ListResponse[TokenOut]{}, TokenListQuery{}, []int{401, 403, 404, 422}, a.listTokens),
		noReplay(op("POST", "/api/v1/token", "v1.token.create", "Token", "Create an API token; its text is returned once (Hookline extension)", 201, TokenIn{}, TokenCreatedOut{}, nil, writeErrors, a.createToken)),
		op("DELETE", "/api/v1/token/{token_id}", "v1.token.revoke", "Token", "Revoke an API token (Hookline extension)", 204, nil, nil, nil, []int{401, 403, 404}, a.revokeToken),
	}
}
