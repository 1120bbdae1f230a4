"""Refusals of the webhook operations: a stable code, the field at fault, a message."""

from __future__ import annotations

from network.errors import HubError


class WebhookError(HubError):
    code = "WEBHOOK_ERROR"


class InvalidWebhookUrl(WebhookError):
    code = "INVALID_WEBHOOK_URL"


class UnknownWebhookEvent(WebhookError):
    code = "UNKNOWN_WEBHOOK_EVENT"


class TooManyWebhookEndpoints(WebhookError):
    code = "TOO_MANY_WEBHOOK_ENDPOINTS"


class WebhookEndpointNotFound(WebhookError):
    code = "WEBHOOK_ENDPOINT_NOT_FOUND"


class WebhookDeliveryNotFound(WebhookError):
    code = "WEBHOOK_DELIVERY_NOT_FOUND"


class WebhookEndpointDisabled(WebhookError):
    code = "WEBHOOK_ENDPOINT_DISABLED"
