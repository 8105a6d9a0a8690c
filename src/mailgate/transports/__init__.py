"""The wire: native gRPC, and the HTTP port (JSON transcoding, grpc-web, Okta's REST API)."""
