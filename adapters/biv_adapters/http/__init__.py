"""`biv serve`: the ledger over HTTP (Starlette on uvicorn, the extra `biv-domain[serve]`).

- `app` the endpoints: every query's document as `--json` prints it, `POST /imports`,
  the OpenAPI schema, its docs page and the auditor's page
- `auth` who calls (a token's holder, or the local user on loopback), roles, the rate limit
- `tokens` the hashed tokens, in the table `biv_tokens` of the store's own database
- `openapi` the schema, generated from the endpoints, with an example document each
- `commands` `biv serve` and `biv token`
"""
