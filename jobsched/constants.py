"""Every key prefix, limit and default of the core in one place."""

from typing import Final

# Limits a client can hit (each maps to a 422 with a clear message).
MAX_PARAMS_BYTES: Final = 64 * 1024
MAX_JSON_DEPTH: Final = 64  # nesting of client JSON (params, schemas); serialisers stop near 255
MAX_REORDER_JOBS: Final = 50  # two writes a job, DynamoDB takes 100 items per transaction
MAX_GROUP_JOBS: Final = 40  # group + two items a job + template checks in one transaction
MAX_PAGE_SIZE: Final = 200
MAX_ID_LENGTH: Final = 128  # far below DynamoDB's key size limits
MAX_POSITION: Final = 100_000  # deeper places: move before/after a job instead
MAX_NOTE_LENGTH: Final = 500  # why the queue was paused or resumed
DEFAULT_PAGE_SIZE: Final = 50
MAX_LOG_LINES: Final = 1000  # log lines per read of GET /runs/{id}/logs
DEFAULT_LOG_LINES: Final = 200
IDEMPOTENCY_TTL_SECONDS: Final = 24 * 3600

# Schedules.
DEFAULT_NEXT_RUNS: Final = 5  # fire times GET /schedules/{id} previews unless asked
MAX_NEXT_RUNS: Final = 50
LIST_NEXT_RUNS: Final = 1  # fire times each item of GET /schedules previews unless asked
MAX_FLEXIBLE_WINDOW_MINUTES: Final = 1440  # EventBridge Scheduler's limit
OVERLAP_LOOKBACK: Final = 10  # a schedule's newest jobs checked for one still queued or running
SYNC_REPAIR_AFTER_SECONDS: Final = 60  # a pending sync older than this was abandoned
# EventBridge Scheduler's delivery of a fire: retried with backoff for up to an hour, then sent
# to the dead-letter queue. A late fire is still correct: it is deduplicated by its time.
SCHEDULE_MAX_EVENT_AGE_SECONDS: Final = 3600
SCHEDULE_MAX_RETRY_ATTEMPTS: Final = 10
SCHEDULE_KEY_PREFIX: Final = "schedule:"  # Idempotency-Key of a fire: schedule:<id>:<time>
# Catch-up of missed fires (jobsched/schedules/catch_up.py).
DEFAULT_CATCH_UP_WINDOW_MINUTES: Final = 1440  # a day: yesterday's missed fire, not last week's
MAX_CATCH_UP_WINDOW_MINUTES: Final = 7 * 1440  # bounds the times one pass enumerates (10,080)
DEFAULT_CATCH_UP_MAX_FIRES: Final = 10  # the most missed fires `all` starts in one pass
CATCH_UP_SKIP_RECORDS: Final = 100  # missed fires recorded one by one; one summary run the rest
# On AWS EventBridge fires on time (or retries, or fires within the flexible window): the
# repair catches up only times this much older than that, so it does not race the delivery.
CATCH_UP_GRACE_SECONDS: Final = 300
# The local ticker fires a time this recent itself, as on time.
LOCAL_CATCH_UP_GRACE_SECONDS: Final = 5

# Priority levels: named levels map to these ints; `immediate` ranks above every int.
PRIORITY_MIN: Final = 0
PRIORITY_MAX: Final = 100
PRIORITY_IMMEDIATE: Final = 101

# Item layout of the jobs table (composite key pk/sk).
JOB_PK_PREFIX: Final = "JOB#"
JOB_SK: Final = "JOB"
QUEUE_PK: Final = "QUEUE"
QUEUE_SK_PREFIX: Final = "JOB#"
# A held job's place: its own partition, so the queue's (what the dispatcher reads) holds none.
QUEUE_HELD_PK: Final = "QUEUE#HELD"
IDEMPOTENCY_PK_PREFIX: Final = "IDEMPOTENCY#"
IDEMPOTENCY_SK: Final = "IDEMPOTENCY"
# A rerun's link under the first job of its chain: `LINEAGE#<root id>` / `<created key>#<id>`.
LINEAGE_PK_PREFIX: Final = "LINEAGE#"
# The usage ledger: `USAGE#<scope>` / `<UTC hour>#<id>`, one partition per scope, so a time
# range of every template (or schedule) is one query (adapters/dynamodb/usage.py).
USAGE_PK_PREFIX: Final = "USAGE#"
# Budgets: a counter per budget period, `BUDGET#<counter>` / `BUDGET` (dynamodb/budgets.py).
BUDGET_PK_PREFIX: Final = "BUDGET#"
BUDGET_SK: Final = "BUDGET"

# Item layout of the lock table (composite key pk/sk).
QUEUE_STATE_PK: Final = "QUEUE"
QUEUE_STATE_SK: Final = "STATE"
CONCURRENCY_PK_PREFIX: Final = "CONCURRENCY#"  # + a counter id: the run ids holding a key value
CONCURRENCY_SK: Final = "CONCURRENCY"

# Index names.
QUEUE_RANK_INDEX: Final = "by_rank"  # LSI: strongly consistent reads of the queue order
BY_STATUS_INDEX: Final = "by_status"
BY_TEMPLATE_INDEX: Final = "by_template"
BY_SCHEDULE_INDEX: Final = "by_schedule"
BY_GROUP_INDEX: Final = "by_group"
BY_JOB_INDEX: Final = "by_job"
BY_KIND_INDEX: Final = "by_kind"
BY_SOURCE_INDEX: Final = "by_source"  # content table: the stories and cards of one run

# API keys: "jsk_<key_id>_<secret>"; the id lets us fetch the record, the secret is hashed.
API_KEY_PREFIX: Final = "jsk"
MAX_KEY_NAME_LENGTH: Final = 100  # what a key is for ("ci", "alice"), shown in lists

# Webhooks (group / batch completion): the signing scheme and the delivery policy.
WEBHOOK_TIMESTAMP_HEADER: Final = "X-Jobsched-Timestamp"
WEBHOOK_SIGNATURE_HEADER: Final = "X-Jobsched-Signature"
WEBHOOK_SIGNATURE_VERSION: Final = "v1"  # the header reads "v1=<hex>"; a new scheme gets v2
WEBHOOK_TOLERANCE_SECONDS: Final = 300  # how old (or how far ahead) a receiver accepts
WEBHOOK_ATTEMPTS: Final = 5
WEBHOOK_BACKOFF_SECONDS: Final = 1.0  # first retry; doubles each attempt
WEBHOOK_MAX_BACKOFF_SECONDS: Final = 30.0  # also caps a receiver's Retry-After
WEBHOOK_TIMEOUT_SECONDS: Final = 10.0
WEBHOOK_DELIVERY_HEADER: Final = "X-Jobsched-Delivery"  # the same on every retry: dedupe by it

# Stories and research cards (jobsched/content): dedup sketches and input limits.
SHINGLE_WORDS: Final = 3  # words per shingle; a shorter text is one shingle
SKETCH_SIZE: Final = 64  # bottom-k MinHash: the k smallest shingle hashes kept per item
MAX_DEDUP_CARDS: Final = 100  # cards in one POST /research/dedup
MAX_CONTENT_FILE_BYTES: Final = 1024 * 1024  # a story/card output file read for indexing
# A run's artifact served by GET /runs/{id}/artifacts/{index}, read whole: a Lambda answers at
# most 6 MB, and a binary body goes base64 (4/3 larger) through API Gateway.
MAX_ARTIFACT_DOWNLOAD_BYTES: Final = 4 * 1024 * 1024

# Quality gates (jobsched/gates): the work one evaluation of a run's checks may do. A file the
# bounds leave unread fails its check: a gate passes only what it saw.
GATE_MAX_FILES: Final = 200  # distinct output files read
GATE_MAX_FILE_BYTES: Final = MAX_CONTENT_FILE_BYTES  # one file (the readers' own bound too)
GATE_MAX_BYTES: Final = 32 * 1024 * 1024  # all files read, together
GATE_MAX_LISTED: Final = 50  # failures listed on a run (its record stays small); more are counted
GATE_MAX_REASON_CHARS: Final = 300  # one failure's reason (a schema error may quote a big value)
# GET /runs/{id}/artifacts/diff: difflib's matching grows faster than its input, so a text is
# compared up to 1 MiB a side; a whole-run comparison reads at most this many bytes in all (one
# pair at a time), and a diff answers at most this many lines.
MAX_DIFF_TEXT_BYTES: Final = 1024 * 1024
MAX_DIFF_READ_BYTES: Final = 16 * 1024 * 1024
MAX_DIFF_LINES: Final = 5000
