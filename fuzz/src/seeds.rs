//! Seed policies (generated from tests/cases/*.yaml `policy:` blocks, examples/ and the CLI
//! export fixture) for the structured targets. Regenerate by hand when those change much.

/// Policy texts (YAML) and where they came from.
pub const SEED_POLICIES: &[(&str, &str)] = &[
    (
        "tests/cases/01-credentialed.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com', 'https://*.example.org', 'http://localhost:*']\n  allow_methods: [GET, PUT, DELETE, PURGE]\n  allow_headers: [authorization, content-type, x-trace-id]\n  expose_headers: [x-request-id, x-total-count]\n  allow_credentials: true\n  max_age: 600\n",
    ),
    (
        "tests/cases/02-anonymous-any.yaml",
        "defaults:\n  allow_origins: ['*']\n  allow_methods: ['*']\n  allow_headers: ['*']\n  expose_headers: ['*']\n  max_age: 30\n",
    ),
    (
        "tests/cases/03-star-with-authorization.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com']\n  allow_methods: [PUT]\n  allow_headers: ['*', Authorization]\n",
    ),
    (
        "tests/cases/04-credentialed-wildcards.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com']\n  allow_methods: ['*']\n  allow_headers: ['*']\n  allow_credentials: true\n",
    ),
    (
        "tests/cases/05-paths.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com']\n  allow_methods: [GET, PUT]\n  allow_credentials: true\npaths:\n  - path: /public/\n    allow_origins: ['*']\n    allow_credentials: false\n  - path: /internal\n    cors: false\n  - glob: /v*/items/**\n    allow_methods: [DELETE]\n    max_age: 60\n  - regex: '^/admin/'\n    allow_origins: ['https://admin.example.com']\n  - path: /hosted/\n    hosts: ['*.tenant.test']\n    allow_origins: ['https://tenant-app.example.com']\n    allow_credentials: false\n  - path: /no-methods/\n    allow_methods: []\n",
    ),
    (
        "tests/cases/06-reject-modes.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com']\n  allow_methods: [PUT]\n  on_reject: forbid\npaths:\n  - path: /shadow/\n    mode: shadow\n    on_reject: omit\n  - path: /passthrough/\n    preflight: { status: 200, passthrough: true }\n    on_reject: omit\n  - path: /status200/\n    preflight: { status: 200 }\n",
    ),
    (
        "tests/cases/07-special-origins.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com', {regex: '^https://pr-[0-9]+\\.preview\\.example\\.com$'}]\n  allow_null_origin: true\n  allow_private_network: true\n  allow_methods: [PUT]\npaths:\n  - path: /static/\n    forced_allow_origin: 'https://cdn.example.com'\n  - path: /strict/\n    skip_same_origin: false\n    allow_null_origin: false\n",
    ),
    (
        "tests/cases/08-credentialed-star-authorization.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com']\n  allow_methods: [PUT]\n  allow_headers: ['*', authorization]\n  allow_credentials: true\n",
    ),
    (
        "tests/cases/09-deny-all.yaml",
        "defaults:\n  allow_origins: []\n  allow_methods: [PUT]\n",
    ),
    (
        "examples/corsguard.yaml",
        "# corsguard example policy: the same policy as examples/corsguard.toml.\n# `corsguard check examples/corsguard.yaml` validates it.\ndefaults:\n  allow_origins:\n    - https://app.example.com          # exact origin\n    - https://*.example.com            # any subdomain (one or more labels), not the apex\n    - http://localhost:*               # any port, for local development\n  allow_methods: [GET, POST, PUT, DELETE]\n  allow_headers: [authorization, content-type, x-trace-id]\n  expose_headers: [x-request-id]\n  allow_credentials: true\n  max_age: 600                         # 600 s is honoured in full by every browser\npaths:\n  - path: /public/                     # anonymous, cacheable assets: a constant ACAO: *\n    allow_origins: ['*']\n    allow_credentials: false\n    allow_headers: []\n  - path: /health\n    cors: false                        # left entirely to the application\n",
    ),
    (
        "crates/corsguard-cli/tests/fixtures/export/policy.yaml",
        "# A policy exercising every exported feature.\ndefaults:\n  allow_origins: ['https://app.example.com', 'https://*.example.org', 'http://localhost:*', {regex: '^https://pr-[0-9]+\\.preview\\.example\\.com$'}]\n  allow_methods: [GET, PUT, DELETE]\n  allow_headers: [authorization, content-type, x-trace-id]\n  expose_headers: [x-request-id]\n  allow_credentials: true\n  max_age: 600\npaths:\n  - path: /public/\n    allow_origins: ['*']\n    allow_headers: ['*']\n    allow_credentials: false\n  - path: /internal\n    cors: false\n  - glob: /v*/reports/**\n    allow_methods: ['*']\n    allow_headers: ['*']\n    on_reject: forbid\n  - path: /tenant/\n    hosts: ['*.tenant.example.com']\n    allow_origins: ['https://portal.example.com']\n    allow_private_network: true\n    upstream: http://10.0.0.7:8080\n  - path: /static/\n    forced_allow_origin: https://cdn.example.com\n    allow_credentials: false\n  - path: /trial/\n    mode: shadow\ngateway:\n  listen: 127.0.0.1:8080\n  upstream: http://127.0.0.1:9000\n",
    ),
];
