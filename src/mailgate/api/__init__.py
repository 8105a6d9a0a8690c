"""One package per API surface: wire types in, domain calls, domain errors out in the API's own form."""
