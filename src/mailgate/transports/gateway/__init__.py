"""grpc-gateway-style JSON transcoding: routes from `google.api.http`, JSON in and out, OpenAPI."""
