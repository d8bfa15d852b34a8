"""The style guard's adversarial corpus: grounded drafts, fact-changing and style-only rewrites.

Drafts are built from bot/sample_knowledge (lorebot's own docs), from SQuAD 2.0 dev paragraphs
(/work/shared/eval/squad2-dev, CC BY-SA 4.0; the few used are copied here so the tests do not
read ../shared), and from team-policy passages of the kind the issue reports (deploy windows,
on-call, expenses). Each source list is in marker order: ``[1]`` cites ``sources[0]``.

FACT_CHANGES: (draft id, expected Reason.kind, rewrite) - each changes exactly one fact.
STYLE_ONLY: (draft id, what the rewrite does, rewrite) - each keeps every fact.

The second batch (end of file) was written after the guard and first run as a held-out check;
its style rewrites include two the guard still rejects (a dropped "when" in "answered when X,
the default" -> "answered by default (X)", and the synonym "counts as" for "is regarded as"):
the test allows up to 10% such false rejections and lists them.
"""

from __future__ import annotations

# --- sources -----------------------------------------------------------------------------------
_INGEST_SRC = (
    "lorebot ingest NAME        # one source\nlorebot ingest --all       # every source\n"
    "Re-ingesting is cheap: a document whose content did not change is skipped without embedding "
    "or writing anything, a changed document has its chunks replaced in one transaction, and a "
    "document that disappeared from its source is removed from the index.")
_FRESH_SRC = ("As fresh as the last ingest. Give a source a schedule (`--every 6h`) or run "
              "`lorebot ingest NAME` after big documentation changes. Re-ingesting only processes "
              "what changed, so frequent schedules are cheap.")
_SCHEDULE_SRC = ("`--every 30m`, `--every 6h`, `--every 1d` or a cron expression with `--cron \"0 */6 "
                 "* * *\"` re-ingest a source automatically while `lorebot serve` runs. Without a "
                 "schedule a source is ingested only on demand.")
_REQ_SRC = ("Python 3.11 or newer. About 2 GB of disk for the virtual environment (PyTorch CPU "
            "build, the embedding model). No database server is required: with no `DATABASE_URL` "
            "set, lorebot starts an embedded PostgreSQL 18 with pgvector inside its data folder "
            "(`LOREBOT_DATA_DIR`).")
_REDACT_SRC = ("Before anything is embedded, lorebot redacts API keys and tokens (Slack `xox*` "
               "tokens, AWS keys, private keys, JWTs), passwords inside URLs, and by default "
               "e-mail addresses and phone numbers (`REDACT_EMAILS`, `REDACT_PHONES`). A document "
               "that is nothing but secrets is not indexed at all, and the run records why.")
_FAILED_SRC = ("Run `lorebot sources show NAME`: the last errors list each document with its "
               "reason. \"file is N MB, above INGEST_MAX_FILE_MB\": raise `INGEST_MAX_FILE_MB` or "
               "exclude the file. A failed document never stops the others, and its previously "
               "indexed version stays searchable.")
_LOCK_SRC = ("Only one ingest per source runs at a time, across all lorebot processes sharing the "
             "database. Wait for the running one to finish. If a process was killed, the lock is "
             "released automatically when its database connection closes.")
_EMBED_SRC = ("Vectors from two models cannot be compared. After changing `EMBEDDING_MODEL`, "
              "lorebot refuses to start searching and tells you to run `lorebot ingest --all "
              "--reembed`, which recomputes every stored vector with the new model. If the new "
              "model has a different dimension, the store must be recreated: `lorebot db downgrade "
              "base && lorebot db upgrade`, then `lorebot ingest --all`.")
_CHUNK_SRC = ("`CHUNK_SIZE_TOKENS` (default 200) and `CHUNK_OVERLAP_TOKENS` (default 30): chunk "
              "size and overlap, counted with the embedding model's own tokenizer. "
              "`INGEST_MAX_FILE_MB`: files above this size are skipped with a recorded reason "
              "(default 20). `RETRIEVAL_TOP_K`: how many passages an answer may cite (default 5).")
_ADMIN_SRC = ("Everyone may run `help` and `status`. Every other command is for the people listed "
              "in `LOREBOT_ADMINS`, written with a platform prefix. When `TRUST_PLATFORM_ADMINS=true` "
              "(the default), Slack workspace admins and owners and Discord members with Manage "
              "Server are admins too. Every command, allowed or refused, is recorded in the audit "
              "log.")
_SLACK_SRC = ("Copy the Bot User OAuth Token (it starts with `xoxb-`) into `.env` as "
              "`SLACK_BOT_TOKEN`. Socket Mode needs no public URL: create an app-level token with "
              "the `connections:write` scope and set it as `SLACK_APP_TOKEN`. HTTP mode: point the "
              "Event Subscriptions at `https://your-host/slack/events`; lorebot listens on "
              "`LOREBOT_HTTP_PORT` (default 3000).")
_SLACK_APP_SRC = ("1. Go to api.slack.com/apps, choose \"Create New App\". 2. Paste "
                  "`adapters/slack/manifest.yml` from the lorebot repository and create the app. "
                  "3. Install the app to your workspace. 4. Copy the Bot User OAuth Token into "
                  "`.env` as `SLACK_BOT_TOKEN`.")

_DEPLOY_SRC = ("Deploy windows: deploys to Production are allowed from Monday 08:00 to Thursday "
               "16:00. On Friday only hotfixes approved by the on-call lead may be deployed; the "
               "finance partner signs off on vendor costs. Release notes must be uploaded to the "
               "wiki before a deploy. Staging deploys need no approval.")
_TOKEN_SRC = ("Access tokens expire after 24 hours. Refresh tokens are valid for 90 days and are "
              "rotated on every use. Tokens are stored in the vault, never in the repository.")
_ENV_SRC = ("Staging is reset every night at 02:00, so do not store test data there that you need "
            "the next day. Production backups are kept for 30 days; Staging backups for 7 days. "
            "Restores are requested from the platform team.")
_EXPENSE_SRC = ("Expenses above 500 EUR must be approved by the finance partner before purchase. "
                "Smaller expenses can be reimbursed within two weeks if you upload the receipt. "
                "Travel must be booked at least 14 days in advance. The team lead approves "
                "conference tickets.")
_ONCALL_SRC = ("The on-call lead answers pages within 15 minutes. If the lead does not answer, the "
               "page escalates to the engineering manager after 30 minutes. Every incident needs a "
               "postmortem within three and a half days; the incident commander writes it and the "
               "engineering manager reviews it.")
_RELEASE_SRC = ("Release checklist: run `make test` on the release branch, tag the release (the "
                "current one is v2.4.0), run `make deploy ENV=staging`, and promote the build to "
                "Production after the smoke tests pass. Never promote on a red build.")
_VPN_SRC = ("Connect with `vpn connect --profile corp`. The client reads ~/.config/corp/vpn.toml. "
            "All laptops must run client version 5.2 or later; older clients are blocked. Support: "
            "https://it.example.com/vpn or it-help@example.com.")

# SQuAD 2.0 dev paragraphs (shortened to the sentences the drafts use).
_NORMANDY_SRC = (
    "In the course of the 10th century, the initially destructive incursions of Norse war bands "
    "into the rivers of France evolved into more permanent encampments that included local women "
    "and personal property. The Duchy of Normandy, which began in 911 as a fiefdom, was established "
    "by the treaty of Saint-Clair-sur-Epte between King Charles III of West Francia and the famed "
    "Viking ruler Rollo, and was situated in the former Frankish kingdom of Neustria. The treaty "
    "offered Rollo and his men the French lands between the river Epte and the Atlantic coast in "
    "exchange for their protection against further Viking incursions. The area corresponded to "
    "the northern part of present-day Upper Normandy down to the river Seine.")
_HERVE_SRC = (
    "One of the first Norman mercenaries to serve as a Byzantine general was Hervé in the 1050s. "
    "By then however, there were already Norman mercenaries serving as far away as Trebizond and "
    "Georgia. They were based at Malatya and Edessa, under the Byzantine duke of Antioch, Isaac "
    "Komnenos. In the 1060s, Robert Crispin led the Normans of Edessa against the Turks. Roussel "
    "de Bailleul even tried to carve out an independent state in Asia Minor with support from the "
    "local population, but he was stopped by the Byzantine general Alexius Komnenos.")
_DECISION_SRC = (
    "Decision problems are one of the central objects of study in computational complexity "
    "theory. A decision problem is a special type of computational problem whose answer is either "
    "yes or no, or alternately either 1 or 0. If the algorithm deciding this problem returns the "
    "answer yes, the algorithm is said to accept the input string, otherwise it is said to reject "
    "the input.")
_BOUNDS_SRC = (
    "To show an upper bound T(n) on the time complexity of a problem, one needs to show only that "
    "there is a particular algorithm with running time at most T(n). However, proving lower "
    "bounds is much more difficult, since lower bounds make a statement about all possible "
    "algorithms that solve a given problem.")
_SCOTLAND_SRC = (
    "Normans came into Scotland, building castles and founding noble families who would provide "
    "some future kings, such as Robert the Bruce, as well as founding a considerable number of the "
    "Scottish clans. King David I of Scotland, whose elder brother Alexander I had married Sybilla "
    "of Normandy, was instrumental in introducing Normans and Norman culture to Scotland.")
_ENGLAND_SRC = (
    "In 1066, Duke William II of Normandy conquered England killing King Harold II at the Battle "
    "of Hastings. The invading Normans and their descendants replaced the Anglo-Saxons as the "
    "ruling class of England.")

# --- drafts ------------------------------------------------------------------------------------
DRAFTS: dict[str, dict] = {
    "ingest": {"draft": "Run `lorebot ingest NAME` to ingest one source [1]. Use `lorebot ingest "
                        "--all` to ingest every source [1]. Re-ingesting only processes what "
                        "changed, so frequent schedules are cheap [2].",
               "sources": [_INGEST_SRC, _FRESH_SRC]},
    "schedule": {"draft": "Give a source a schedule with `--every 6h` or a cron expression such as "
                          "`--cron \"0 */6 * * *\"` [1]. Schedules re-ingest a source automatically "
                          "while `lorebot serve` runs [1]. Without a schedule, a source is ingested "
                          "only on demand [1].",
                 "sources": [_SCHEDULE_SRC]},
    "requirements": {"draft": "lorebot needs Python 3.11 or newer [1]. Plan for about 2 GB of disk "
                              "for the virtual environment [1]. No database server is required: "
                              "without `DATABASE_URL`, lorebot starts an embedded PostgreSQL 18 "
                              "with pgvector [1].",
                     "sources": [_REQ_SRC]},
    "redact": {"draft": "Before anything is embedded, lorebot redacts API keys, tokens and "
                        "passwords inside URLs [1]. E-mail addresses and phone numbers are redacted "
                        "by default (`REDACT_EMAILS`, `REDACT_PHONES`) [1]. A document that is "
                        "nothing but secrets is not indexed at all [1].",
               "sources": [_REDACT_SRC]},
    "failed": {"draft": "Run `lorebot sources show NAME` to see the last errors of a source [1]. If "
                        "a file is above `INGEST_MAX_FILE_MB`, raise the limit or exclude the file "
                        "[1]. A failed document never stops the others, and its previously indexed "
                        "version stays searchable [1].",
               "sources": [_FAILED_SRC]},
    "lock": {"draft": "Only one ingest per source runs at a time, across all lorebot processes "
                      "sharing the database [1]. If a process was killed, the lock is released "
                      "automatically when its database connection closes [1].",
             "sources": [_LOCK_SRC]},
    "reembed": {"draft": "After changing `EMBEDDING_MODEL`, run `lorebot ingest --all --reembed` "
                         "[1]. If the new model has a different dimension, the store must be "
                         "recreated with `lorebot db downgrade base` and then `lorebot db upgrade` "
                         "[1].",
                "sources": [_EMBED_SRC]},
    "chunks": {"draft": "Chunks are 200 tokens long by default, with an overlap of 30 tokens [1]. "
                        "Files above 20 MB are skipped [1]. An answer may cite up to 5 passages "
                        "[1].",
               "sources": [_CHUNK_SRC]},
    "admins": {"draft": "Everyone may run `help` and `status` [1]. Every other command is only for "
                        "the people listed in `LOREBOT_ADMINS` [1]. Every command, allowed or "
                        "refused, is recorded in the audit log [1].",
               "sources": [_ADMIN_SRC]},
    "slack": {"draft": "Copy the Bot User OAuth Token into `.env` as `SLACK_BOT_TOKEN` [1]. Socket "
                       "Mode needs no public URL [1]. In HTTP mode, lorebot listens on "
                       "`LOREBOT_HTTP_PORT`, which defaults to 3000 [1].",
              "sources": [_SLACK_SRC]},
    "slack_app": {"draft": "1. Paste `adapters/slack/manifest.yml` and create the app [1].\n"
                           "2. Install the app to your workspace [1].\n"
                           "3. Copy the Bot User OAuth Token into `.env` as `SLACK_BOT_TOKEN` [1].",
                  "sources": [_SLACK_APP_SRC]},
    "deploy": {"draft": "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 [1]. "
                        "On Friday, only hotfixes approved by the on-call lead may be deployed [1]. "
                        "Release notes must be uploaded to the wiki before a deploy [1].",
               "sources": [_DEPLOY_SRC]},
    "tokens": {"draft": "Access tokens expire after 24 hours, and refresh tokens are valid for 90 "
                        "days [1]. Tokens are stored in the vault, never in the repository [1].",
               "sources": [_TOKEN_SRC]},
    "envs": {"draft": "Staging is reset every night, so do not store test data there [1]. "
                      "Production backups are kept for 30 days [1].",
             "sources": [_ENV_SRC]},
    "expenses": {"draft": "Expenses above 500 EUR must be approved by the finance partner before "
                          "purchase [1]. Smaller expenses can be reimbursed within two weeks if you "
                          "upload the receipt [1]. Travel must be booked at least 14 days in "
                          "advance [1].",
                 "sources": [_EXPENSE_SRC]},
    "oncall": {"draft": "The on-call lead answers pages within 15 minutes [1]. If the lead does not "
                        "answer, the page escalates to the engineering manager after 30 minutes "
                        "[1]. Every incident needs a postmortem within three and a half days [1].",
               "sources": [_ONCALL_SRC]},
    "release": {"draft": "1. Run `make test` on the release branch [1].\n"
                         "2. Tag the release as v2.4.0 [1].\n"
                         "3. Run `make deploy ENV=staging` [1].\n"
                         "4. After the smoke tests pass, promote the build to Production [1].",
                "sources": [_RELEASE_SRC]},
    "vpn": {"draft": "Connect with `vpn connect --profile corp` [1]. The client reads "
                     "~/.config/corp/vpn.toml [1]. All laptops must run client version 5.2 or "
                     "later [1]. Help is at https://it.example.com/vpn [1].",
            "sources": [_VPN_SRC]},
    "normandy": {"draft": "The Duchy of Normandy began in 911 as a fiefdom [1]. It was established "
                          "by the treaty of Saint-Clair-sur-Epte between King Charles III of West "
                          "Francia and the Viking ruler Rollo [1]. The treaty offered Rollo the "
                          "French lands between the river Epte and the Atlantic coast [1].",
                 "sources": [_NORMANDY_SRC]},
    "herve": {"draft": "Hervé was one of the first Norman mercenaries to serve as a Byzantine "
                       "general, in the 1050s [1]. In the 1060s, Robert Crispin led the Normans of "
                       "Edessa against the Turks [1]. Roussel de Bailleul was stopped by the "
                       "Byzantine general Alexius Komnenos [1].",
              "sources": [_HERVE_SRC]},
    "decision": {"draft": "A decision problem is a computational problem whose answer is either "
                          "yes or no [1]. If the algorithm returns the answer yes, it is said to "
                          "accept the input string [1].",
                 "sources": [_DECISION_SRC]},
    "bounds": {"draft": "To show an upper bound T(n), one needs to show only that there is a "
                        "particular algorithm with running time at most T(n) [1]. Proving lower "
                        "bounds is much more difficult, since lower bounds make a statement about "
                        "all possible algorithms [1].",
               "sources": [_BOUNDS_SRC]},
    "scotland": {"draft": "King David I of Scotland introduced Normans and Norman culture to "
                          "Scotland [1]. His elder brother Alexander I had married Sybilla of "
                          "Normandy [1].",
                 "sources": [_SCOTLAND_SRC]},
    "england": {"draft": "In 1066, Duke William II of Normandy conquered England [1]. The Normans "
                         "replaced the Anglo-Saxons as the ruling class of England [1].",
                "sources": [_ENGLAND_SRC]},
}

# --- fact-changing rewrites: (draft, kind the reason must name, rewrite) -----------------------
FACT_CHANGES: list[tuple[str, str, str]] = [
    # numbers and units
    ("chunks", "number", "Chunks are 300 tokens long by default, with an overlap of 30 tokens [1]. "
     "Files above 20 MB are skipped [1]. An answer may cite up to 5 passages [1]."),
    ("chunks", "number", "Chunks are 200 tokens long by default, with an overlap of 30 tokens [1]. "
     "Files above 20 GB are skipped [1]. An answer may cite up to 5 passages [1]."),
    ("chunks", "number", "Chunks are 200 tokens long by default, with an overlap of 30 tokens [1]. "
     "Files above 20 MB are skipped [1]. An answer may cite up to ten passages [1]."),
    ("envs", "number", "Staging is reset every night, so do not store test data there [1]. "
     "Production backups are kept for 30 weeks [1]."),
    ("requirements", "number", "lorebot needs Python 3.11 or newer [1]. Plan for about 20 GB of "
     "disk for the virtual environment [1]. No database server is required: without "
     "`DATABASE_URL`, lorebot starts an embedded PostgreSQL 18 with pgvector [1]."),
    ("slack", "number", "Copy the Bot User OAuth Token into `.env` as `SLACK_BOT_TOKEN` [1]. Socket "
     "Mode needs no public URL [1]. In HTTP mode, lorebot listens on `LOREBOT_HTTP_PORT`, which "
     "defaults to 8080 [1]."),
    ("oncall", "number", "The on-call lead answers pages within 15 minutes [1]. If the lead does "
     "not answer, the page escalates to the engineering manager after 30 minutes [1]. Every "
     "incident needs a postmortem within 3 days [1]."),
    ("tokens", "number", "Access tokens expire after 24 minutes, and refresh tokens are valid for "
     "90 days [1]. Tokens are stored in the vault, never in the repository [1]."),
    ("england", "number", "In 1067, Duke William II of Normandy conquered England [1]. The Normans "
     "replaced the Anglo-Saxons as the ruling class of England [1]."),
    # quantities in words
    ("oncall", "number", "The on-call lead answers pages within fifteen minutes [1]. If the lead "
     "does not answer, the page escalates to the engineering manager after thirty minutes [1]. "
     "Every incident needs a postmortem within two weeks [1]."),
    ("expenses", "number", "Expenses above 500 EUR must be approved by the finance partner before "
     "purchase [1]. Smaller expenses can be reimbursed within three weeks if you upload the "
     "receipt [1]. Travel must be booked at least 14 days in advance [1]."),
    ("expenses", "number", "Expenses above 500 EUR must be approved by the finance partner before "
     "purchase [1]. Smaller expenses can be reimbursed within two weeks if you upload the receipt "
     "[1]. Travel must be booked at least three and a half days in advance [1]."),
    ("oncall", "number", "The on-call lead answers pages within a quarter of an hour [1]. If the "
     "lead does not answer, the page escalates to the engineering manager after half an hour "
     "[1]. Every incident needs a postmortem within four and a half days [1]."),
    ("chunks", "number", "Chunks are two hundred tokens long by default, with an overlap of forty "
     "tokens [1]. Files above 20 MB are skipped [1]. An answer may cite up to 5 passages [1]."),
    # numbers swapped between facts
    ("tokens", "number", "Access tokens expire after 90 days, and refresh tokens are valid for 24 "
     "hours [1]. Tokens are stored in the vault, never in the repository [1]."),
    ("chunks", "number", "Chunks are 30 tokens long by default, with an overlap of 200 tokens [1]. "
     "Files above 20 MB are skipped [1]. An answer may cite up to 5 passages [1]."),
    ("oncall", "number", "The on-call lead answers pages within 30 minutes [1]. If the lead does "
     "not answer, the page escalates to the engineering manager after 15 minutes [1]. Every "
     "incident needs a postmortem within three and a half days [1]."),
    # days and times
    ("deploy", "day", "Deploys to Production are allowed from Thursday 16:00 to Monday 08:00 [1]. "
     "On Friday, only hotfixes approved by the on-call lead may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    ("deploy", "day", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 [1]. "
     "On Saturday, only hotfixes approved by the on-call lead may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    ("deploy", "time", "Deploys to Production are allowed from Monday 08:00 to Thursday 18:00 [1]. "
     "On Friday, only hotfixes approved by the on-call lead may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    ("deploy", "time", "Deploys to Production are allowed from Monday 9am to Thursday 4pm [1]. On "
     "Friday, only hotfixes approved by the on-call lead may be deployed [1]. Release notes must "
     "be uploaded to the wiki before a deploy [1]."),
    ("deploy", "time", "Deploys to Production are allowed from Monday 16:00 to Thursday 08:00 [1]. "
     "On Friday, only hotfixes approved by the on-call lead may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    # dates
    ("england", "date", "In May 1066, Duke William II of Normandy conquered England [1]. The "
     "Normans replaced the Anglo-Saxons as the ruling class of England [1]."),
    ("normandy", "number", "The Duchy of Normandy began in 912 as a fiefdom [1]. It was established "
     "by the treaty of Saint-Clair-sur-Epte between King Charles III of West Francia and the "
     "Viking ruler Rollo [1]. The treaty offered Rollo the French lands between the river Epte "
     "and the Atlantic coast [1]."),
    ("herve", "number", "Hervé was one of the first Norman mercenaries to serve as a Byzantine "
     "general, in the 1060s [1]. In the 1050s, Robert Crispin led the Normans of Edessa against "
     "the Turks [1]. Roussel de Bailleul was stopped by the Byzantine general Alexius Komnenos [1]."),
    ("normandy", "number", "The Duchy of Normandy began in 911 as a fiefdom [1]. It was established "
     "in the 11th century by the treaty of Saint-Clair-sur-Epte between King Charles III of West "
     "Francia and the Viking ruler Rollo [1]. The treaty offered Rollo the French lands between "
     "the river Epte and the Atlantic coast [1]."),
    # versions
    ("requirements", "version", "lorebot needs Python 3.12 or newer [1]. Plan for about 2 GB of "
     "disk for the virtual environment [1]. No database server is required: without "
     "`DATABASE_URL`, lorebot starts an embedded PostgreSQL 18 with pgvector [1]."),
    ("release", "version", "1. Run `make test` on the release branch [1].\n2. Tag the release as "
     "v2.5.0 [1].\n3. Run `make deploy ENV=staging` [1].\n4. After the smoke tests pass, promote "
     "the build to Production [1]."),
    ("vpn", "version", "Connect with `vpn connect --profile corp` [1]. The client reads "
     "~/.config/corp/vpn.toml [1]. All laptops must run client version 5.1 or later [1]. Help is "
     "at https://it.example.com/vpn [1]."),
    ("requirements", "number", "lorebot needs Python 3.11 or newer [1]. Plan for about 2 GB of "
     "disk for the virtual environment [1]. No database server is required: without "
     "`DATABASE_URL`, lorebot starts an embedded PostgreSQL 16 with pgvector [1]."),
    # commands and flags
    ("ingest", "command", "Run `lorebot ingest NAME` to ingest one source [1]. Use `lorebot sync "
     "--all` to ingest every source [1]. Re-ingesting only processes what changed, so frequent "
     "schedules are cheap [2]."),
    ("reembed", "command flag", "After changing `EMBEDDING_MODEL`, run `lorebot ingest --all "
     "--force` [1]. If the new model has a different dimension, the store must be recreated with "
     "`lorebot db downgrade base` and then `lorebot db upgrade` [1]."),
    ("schedule", "number", "Give a source a schedule with `--every 12h` or a cron expression such "
     "as `--cron \"0 */6 * * *\"` [1]. Schedules re-ingest a source automatically while `lorebot "
     "serve` runs [1]. Without a schedule, a source is ingested only on demand [1]."),
    ("vpn", "command flag", "Connect with `vpn connect --user corp` [1]. The client reads "
     "~/.config/corp/vpn.toml [1]. All laptops must run client version 5.2 or later [1]. Help is "
     "at https://it.example.com/vpn [1]."),
    ("release", "command", "1. Run `make test` on the release branch [1].\n2. Tag the release as "
     "v2.4.0 [1].\n3. Run `make deploy ENV=production` [1].\n4. After the smoke tests pass, "
     "promote the build to Production [1]."),
    ("failed", "command", "Run `lorebot sources remove NAME` to see the last errors of a source "
     "[1]. If a file is above `INGEST_MAX_FILE_MB`, raise the limit or exclude the file [1]. A "
     "failed document never stops the others, and its previously indexed version stays "
     "searchable [1]."),
    ("reembed", "command", "After changing `EMBEDDING_MODEL`, run `lorebot ingest --all --reembed` "
     "[1]. If the new model has a different dimension, the store must be recreated with "
     "`lorebot db downgrade head` and then `lorebot db upgrade` [1]."),
    # file paths and URLs
    ("vpn", "file path", "Connect with `vpn connect --profile corp` [1]. The client reads "
     "~/.config/corp/vpn.yaml [1]. All laptops must run client version 5.2 or later [1]. Help is "
     "at https://it.example.com/vpn [1]."),
    ("slack_app", "file path", "1. Paste `adapters/discord/manifest.yml` and create the app [1].\n"
     "2. Install the app to your workspace [1].\n3. Copy the Bot User OAuth Token into `.env` as "
     "`SLACK_BOT_TOKEN` [1]."),
    ("vpn", "URL", "Connect with `vpn connect --profile corp` [1]. The client reads "
     "~/.config/corp/vpn.toml [1]. All laptops must run client version 5.2 or later [1]. Help is "
     "at https://it.example.org/vpn [1]."),
    ("vpn", "e-mail", "Connect with `vpn connect --profile corp` [1]. The client reads "
     "~/.config/corp/vpn.toml [1]. All laptops must run client version 5.2 or later [1]. Help is "
     "at https://it.example.com/vpn or vpn-help@example.com [1]."),
    # identifiers and settings
    ("redact", "identifier", "Before anything is embedded, lorebot redacts API keys, tokens and "
     "passwords inside URLs [1]. E-mail addresses and phone numbers are redacted by default "
     "(`REDACT_EMAILS`, `REDACT_ADDRESSES`) [1]. A document that is nothing but secrets is not "
     "indexed at all [1]."),
    ("failed", "identifier", "Run `lorebot sources show NAME` to see the last errors of a source "
     "[1]. If a file is above `INGEST_MAX_PAGES`, raise the limit or exclude the file [1]. A "
     "failed document never stops the others, and its previously indexed version stays "
     "searchable [1]."),
    # polarity: negation dropped, flipped or added
    ("envs", "polarity", "Staging is reset every night, so store the test data there [1]. "
     "Production backups are kept for 30 days [1]."),
    ("deploy", "polarity", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 "
     "[1]. On Friday, hotfixes do not need approval by the on-call lead [1]. Release notes must "
     "be uploaded to the wiki before a deploy [1]."),
    ("failed", "polarity", "Run `lorebot sources show NAME` to see the last errors of a source [1]. "
     "If a file is above `INGEST_MAX_FILE_MB`, raise the limit or exclude the file [1]. A failed "
     "document stops the others, and its previously indexed version stays searchable [1]."),
    ("redact", "polarity", "Before anything is embedded, lorebot redacts API keys, tokens and "
     "passwords inside URLs [1]. E-mail addresses and phone numbers are redacted by default "
     "(`REDACT_EMAILS`, `REDACT_PHONES`) [1]. A document that is nothing but secrets is indexed "
     "[1]."),
    ("tokens", "polarity", "Access tokens expire after 24 hours, and refresh tokens are valid for "
     "90 days [1]. Tokens are stored in the repository, never in the vault [1]."),
    ("requirements", "polarity", "lorebot needs Python 3.11 or newer [1]. Plan for about 2 GB of "
     "disk for the virtual environment [1]. A database server is required: without "
     "`DATABASE_URL`, lorebot starts an embedded PostgreSQL 18 with pgvector [1]."),
    ("slack", "polarity", "Copy the Bot User OAuth Token into `.env` as `SLACK_BOT_TOKEN` [1]. "
     "Socket Mode needs a public URL [1]. In HTTP mode, lorebot listens on `LOREBOT_HTTP_PORT`, "
     "which defaults to 3000 [1]."),
    ("oncall", "polarity", "The on-call lead answers pages within 15 minutes [1]. If the lead "
     "answers, the page escalates to the engineering manager after 30 minutes [1]. Every "
     "incident needs a postmortem within three and a half days [1]."),
    # scope: only / any / all / some
    ("deploy", "scope", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 "
     "[1]. On Friday, any change approved by the on-call lead may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    ("deploy", "scope", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 "
     "[1]. On Friday, hotfixes approved by the on-call lead may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    ("vpn", "scope", "Connect with `vpn connect --profile corp` [1]. The client reads "
     "~/.config/corp/vpn.toml [1]. Some laptops must run client version 5.2 or later [1]. Help "
     "is at https://it.example.com/vpn [1]."),
    ("admins", "scope", "Everyone may run `help` and `status` [1]. Every other command is for "
     "anyone listed in `LOREBOT_ADMINS` [1]. Every command, allowed or refused, is recorded in "
     "the audit log [1]."),
    ("admins", "scope", "Everyone may run `help` and `status` [1]. Every other command is only for "
     "the people listed in `LOREBOT_ADMINS` [1]. Some commands, allowed or refused, are recorded "
     "in the audit log [1]."),
    ("bounds", "scope", "To show an upper bound T(n), one needs to show only that there is a "
     "particular algorithm with running time at most T(n) [1]. Proving lower bounds is much more "
     "difficult, since lower bounds make a statement about some possible algorithms [1]."),
    ("oncall", "scope", "The on-call lead answers pages within 15 minutes [1]. If the lead does "
     "not answer, the page escalates to the engineering manager after 30 minutes [1]. Some "
     "incidents need a postmortem within three and a half days [1]."),
    # modality
    ("deploy", "modality", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 "
     "[1]. On Friday, only hotfixes approved by the on-call lead may be deployed [1]. Uploading "
     "release notes to the wiki before a deploy is optional [1]."),
    ("expenses", "modality", "Expenses above 500 EUR should be approved by the finance partner "
     "before purchase [1]. Smaller expenses can be reimbursed within two weeks if you upload the "
     "receipt [1]. Travel must be booked at least 14 days in advance [1]."),
    ("vpn", "modality", "Connect with `vpn connect --profile corp` [1]. The client reads "
     "~/.config/corp/vpn.toml [1]. All laptops may run client version 5.2 or later [1]. Help is "
     "at https://it.example.com/vpn [1]."),
    ("reembed", "modality", "After changing `EMBEDDING_MODEL`, run `lorebot ingest --all --reembed` "
     "[1]. If the new model has a different dimension, the store may be recreated with `lorebot "
     "db downgrade base` and then `lorebot db upgrade` [1]."),
    ("admins", "modality", "Everyone must run `help` and `status` [1]. Every other command is only "
     "for the people listed in `LOREBOT_ADMINS` [1]. Every command, allowed or refused, is "
     "recorded in the audit log [1]."),
    ("oncall", "modality", "The on-call lead answers pages within 15 minutes [1]. If the lead does "
     "not answer, the page escalates to the engineering manager after 30 minutes [1]. Every "
     "incident may get a postmortem within three and a half days [1]."),
    # conditions
    ("expenses", "condition", "Expenses above 500 EUR must be approved by the finance partner "
     "before purchase [1]. Smaller expenses can be reimbursed within two weeks unless you upload "
     "the receipt [1]. Travel must be booked at least 14 days in advance [1]."),
    ("failed", "condition", "Run `lorebot sources show NAME` to see the last errors of a source "
     "[1]. Unless a file is above `INGEST_MAX_FILE_MB`, raise the limit or exclude the file [1]. "
     "A failed document never stops the others, and its previously indexed version stays "
     "searchable [1]."),
    ("decision", "condition", "A decision problem is a computational problem whose answer is "
     "either yes or no [1]. Unless the algorithm returns the answer yes, it is said to accept "
     "the input string [1]."),
    ("reembed", "condition", "After changing `EMBEDDING_MODEL`, run `lorebot ingest --all "
     "--reembed` [1]. Unless the new model has a different dimension, the store must be recreated "
     "with `lorebot db downgrade base` and then `lorebot db upgrade` [1]."),
    ("lock", "condition", "Only one ingest per source runs at a time, across all lorebot processes "
     "sharing the database [1]. Unless a process was killed, the lock is released automatically "
     "when its database connection closes [1]."),
    # relations: before/after, above/below, more/less
    ("deploy", "relation", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 "
     "[1]. On Friday, only hotfixes approved by the on-call lead may be deployed [1]. Release "
     "notes must be uploaded to the wiki after a deploy [1]."),
    ("expenses", "relation", "Expenses below 500 EUR must be approved by the finance partner "
     "before purchase [1]. Smaller expenses can be reimbursed within two weeks if you upload the "
     "receipt [1]. Travel must be booked at least 14 days in advance [1]."),
    ("expenses", "relation", "Expenses above 500 EUR must be approved by the finance partner after "
     "purchase [1]. Smaller expenses can be reimbursed within two weeks if you upload the receipt "
     "[1]. Travel must be booked at least 14 days in advance [1]."),
    ("bounds", "relation", "To show an upper bound T(n), one needs to show only that there is a "
     "particular algorithm with running time at least T(n) [1]. Proving lower bounds is much "
     "more difficult, since lower bounds make a statement about all possible algorithms [1]."),
    ("bounds", "relation", "To show an upper bound T(n), one needs to show only that there is a "
     "particular algorithm with running time at most T(n) [1]. Proving lower bounds is much less "
     "difficult, since lower bounds make a statement about all possible algorithms [1]."),
    ("chunks", "relation", "Chunks are 200 tokens long by default, with an overlap of 30 tokens "
     "[1]. Files below 20 MB are skipped [1]. An answer may cite up to 5 passages [1]."),
    ("release", "relation", "1. Run `make test` on the release branch [1].\n2. Tag the release as "
     "v2.4.0 [1].\n3. Run `make deploy ENV=staging` [1].\n4. Before the smoke tests pass, "
     "promote the build to Production [1]."),
    ("oncall", "relation", "The on-call lead answers pages within 15 minutes [1]. If the lead "
     "does not answer, the page escalates to the engineering manager before 30 minutes [1]. "
     "Every incident needs a postmortem within three and a half days [1]."),
    # step order
    ("release", "order", "1. Run `make test` on the release branch [1].\n2. Run `make deploy "
     "ENV=staging` [1].\n3. Tag the release as v2.4.0 [1].\n4. After the smoke tests pass, "
     "promote the build to Production [1]."),
    ("slack_app", "order", "1. Install the app to your workspace [1].\n2. Paste "
     "`adapters/slack/manifest.yml` and create the app [1].\n3. Copy the Bot User OAuth Token "
     "into `.env` as `SLACK_BOT_TOKEN` [1]."),
    ("reembed", "order", "After changing `EMBEDDING_MODEL`, run `lorebot ingest --all --reembed` "
     "[1]. If the new model has a different dimension, the store must be recreated with `lorebot "
     "db upgrade` and then `lorebot db downgrade base` [1]."),
    ("release", "order", "First run `make deploy ENV=staging`, then run `make test` on the release "
     "branch [1]. Tag the release as v2.4.0 [1]. After the smoke tests pass, promote the build to "
     "Production [1]."),
    # roles and entities swapped (words from the sources)
    ("deploy", "role", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 [1]. "
     "On Friday, only hotfixes approved by the finance partner may be deployed [1]. Release notes "
     "must be uploaded to the wiki before a deploy [1]."),
    ("envs", "role", "Production is reset every night, so do not store test data there [1]. "
     "Staging backups are kept for 30 days [1]."),
    ("expenses", "role", "Expenses above 500 EUR must be approved by the team lead before purchase "
     "[1]. Smaller expenses can be reimbursed within two weeks if you upload the receipt [1]. "
     "Travel must be booked at least 14 days in advance [1]."),
    ("deploy", "role", "Deploys to Staging are allowed from Monday 08:00 to Thursday 16:00 [1]. On "
     "Friday, only hotfixes approved by the on-call lead may be deployed [1]. Release notes must "
     "be uploaded to the wiki before a deploy [1]."),
    ("herve", "role", "Hervé was one of the first Norman mercenaries to serve as a Byzantine "
     "general, in the 1050s [1]. In the 1060s, Robert Crispin led the Turks of Edessa against the "
     "Normans [1]. Roussel de Bailleul was stopped by the Byzantine general Alexius Komnenos [1]."),
    ("herve", "role", "Hervé was one of the first Norman mercenaries to serve as a Byzantine "
     "general, in the 1050s [1]. In the 1060s, Robert Crispin led the Normans of Edessa against "
     "the Turks [1]. Alexius Komnenos was stopped by the Byzantine general Roussel de Bailleul [1]."),
    ("normandy", "role", "The Duchy of Normandy began in 911 as a fiefdom [1]. It was established "
     "by the treaty of Saint-Clair-sur-Epte between King Charles III of West Francia and the "
     "Viking ruler Rollo [1]. The treaty offered Rollo the French lands between the river Seine "
     "and the Atlantic coast [1]."),
    ("scotland", "role", "King David I of Scotland introduced Normans and Norman culture to "
     "Scotland [1]. His elder brother Alexander I had married Sybilla of Scotland [1]."),
    ("england", "role", "In 1066, Duke William II of Normandy conquered England [1]. The "
     "Anglo-Saxons replaced the Normans as the ruling class of England [1]."),
    ("oncall", "role", "The on-call lead answers pages within 15 minutes [1]. If the lead does not "
     "answer, the page escalates to the incident commander after 30 minutes [1]. Every incident "
     "needs a postmortem within three and a half days [1]."),
    # new names and new content words
    ("deploy", "new word", "Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 "
     "[1]. On Friday, only hotfixes approved by the on-call lead may be deployed, and they also "
     "need a second reviewer [1]. Release notes must be uploaded to the wiki before a deploy [1]."),
    ("oncall", "new word", "The on-call lead, priya, answers pages within 15 minutes [1]. If the "
     "lead does not answer, the page escalates to the engineering manager after 30 minutes [1]. "
     "Every incident needs a postmortem within three and a half days [1]."),
    ("scotland", "name", "King David I of Scotland introduced Normans and Norman culture to "
     "Scotland [1]. His elder brother Alexander I had married Matilda of Normandy [1]."),
    ("lock", "new word", "Only one ingest per source runs at a time, across all lorebot processes "
     "sharing the database [1]. If a process was killed, the lock is released automatically "
     "after a timeout of a few minutes when its database connection closes [1]."),
    ("decision", "new word", "A decision problem is a computational problem whose answer is either "
     "yes or no [1]. If the algorithm returns the answer yes, it is said to accept the input "
     "string in polynomial time [1]."),
    # a sentence with no draft sentence behind it
    ("tokens", "unsupported", "Access tokens expire after 24 hours, and refresh tokens are valid "
     "for 90 days [1]. Tokens are stored in the vault, never in the repository [1]. Rotate them "
     "regularly."),
    ("ingest", "unsupported", "Run `lorebot ingest NAME` to ingest one source [1]. Use `lorebot "
     "ingest --all` to ingest every source [1]. Re-ingesting only processes what changed, so "
     "frequent schedules are cheap [2]. Removed documents disappear from the index [2]."),
    # citations
    ("oncall", "citation", "The on-call lead answers pages within 15 minutes [1]. If the lead "
     "does not answer, the page escalates to the engineering manager after 30 minutes.\n\nEvery "
     "incident needs a postmortem within three and a half days."),
    ("ingest", "citation", "Run `lorebot ingest NAME` to ingest one source [1][2]. Use `lorebot "
     "ingest --all` to ingest every source. Re-ingesting only processes what changed, so "
     "frequent schedules are cheap."),
    ("ingest", "citation", "Run `lorebot ingest NAME` to ingest one source [2]. Use `lorebot ingest "
     "--all` to ingest every source [2]. Re-ingesting only processes what changed, so frequent "
     "schedules are cheap [1]."),
    # Unicode look-alikes
    ("tokens", "look-alike", "Access tokens expire after 24 hours, and refresh tokens are valid "
     "for 90 days [1]. Tokens are stored in the v\u0430ult, never in the repository [1]."),
    ("expenses", "number", "Expenses above 500 EUR must be approved by the finance partner before "
     "purchase [1]. Smaller expenses can be reimbursed within two weeks if you upload the receipt "
     "[1]. Travel must be booked at least \uff11\uff15 days in advance [1]."),
]

# --- style-only rewrites: (draft, what changes, rewrite) --------------------------------------
STYLE_ONLY: list[tuple[str, str, str]] = [
    ("ingest", "bullets", "- Run `lorebot ingest NAME` to ingest one source [1].\n- Use `lorebot "
     "ingest --all` to ingest every source [1].\n- Re-ingesting only processes what changed, so "
     "frequent schedules are cheap [2]."),
    ("ingest", "summary first", "Short answer: use `lorebot ingest` [1].\n\n- One source: `lorebot "
     "ingest NAME` [1]\n- Every source: `lorebot ingest --all` [1]\n- Re-ingesting only "
     "processes what changed, so frequent schedules are cheap [2]."),
    ("schedule", "greeting", "Hi! Give a source a schedule with `--every 6h` or a cron expression "
     "such as `--cron \"0 */6 * * *\"` [1]. Schedules re-ingest a source automatically while "
     "`lorebot serve` runs [1]. Without a schedule, a source is ingested only on demand [1]. "
     "Hope this helps!"),
    ("schedule", "reorder", "Without a schedule, a source is ingested only on demand [1]. Give a "
     "source a schedule with `--every 6h` or a cron expression such as `--cron \"0 */6 * * *\"` "
     "[1]. Schedules re-ingest a source automatically while `lorebot serve` runs [1]."),
    ("requirements", "bold", "lorebot needs **Python 3.11 or newer** [1]. Plan for about **2 GB** "
     "of disk for the virtual environment [1]. **No database server is required**: without "
     "`DATABASE_URL`, lorebot starts an embedded PostgreSQL 18 with pgvector [1]."),
    ("requirements", "heading + bullets", "## Requirements\n\n- Python 3.11 or newer [1]\n- About "
     "2 GB of disk for the virtual environment [1]\n- No database server is required: without "
     "`DATABASE_URL`, lorebot starts an embedded PostgreSQL 18 with pgvector [1]"),
    ("redact", "tone", "Good news: before anything is embedded, lorebot redacts API keys, tokens "
     "and passwords inside URLs [1]. E-mail addresses and phone numbers are redacted by default "
     "(`REDACT_EMAILS`, `REDACT_PHONES`) [1]. A document that is nothing but secrets is not "
     "indexed at all [1]."),
    ("redact", "passive to active", "Before anything is embedded, lorebot redacts API keys, tokens "
     "and passwords inside URLs [1]. By default lorebot redacts e-mail addresses and phone "
     "numbers (`REDACT_EMAILS`, `REDACT_PHONES`) [1]. lorebot does not index a document that is "
     "nothing but secrets at all [1]."),
    ("failed", "numbered steps", "1. Run `lorebot sources show NAME` to see the last errors of a "
     "source [1].\n2. If a file is above `INGEST_MAX_FILE_MB`, raise the limit or exclude the "
     "file [1].\n\nA failed document never stops the others, and its previously indexed version "
     "stays searchable [1]."),
    ("failed", "shortening", "Run `lorebot sources show NAME` to see the last errors [1]. If a file "
     "is above `INGEST_MAX_FILE_MB`, raise the limit or exclude it [1]. A failed document never "
     "stops the others [1]."),
    ("lock", "merging", "Only one ingest per source runs at a time, across all lorebot processes "
     "sharing the database, and if a process was killed, the lock is released automatically "
     "when its database connection closes [1]."),
    ("lock", "tone", "Good to know: only one ingest per source runs at a time, across all lorebot "
     "processes sharing the database [1]. If a process was killed, don't worry: the lock is "
     "released automatically when its database connection closes [1]."),
    ("reembed", "bullets", "- After changing `EMBEDDING_MODEL`, run `lorebot ingest --all "
     "--reembed` [1].\n- If the new model has a different dimension, the store must be recreated "
     "with `lorebot db downgrade base` and then `lorebot db upgrade` [1]."),
    ("reembed", "code formatting", "After changing EMBEDDING_MODEL, run lorebot ingest --all "
     "--reembed [1]. If the new model has a different dimension, the store must be recreated: "
     "first `lorebot db downgrade base`, then `lorebot db upgrade` [1]."),
    ("chunks", "bullets", "Defaults:\n- Chunks: 200 tokens long, with an overlap of 30 tokens [1]\n"
     "- Files above 20 MB are skipped [1]\n- An answer may cite up to 5 passages [1]"),
    ("chunks", "reorder", "An answer may cite up to 5 passages [1]. Chunks are 200 tokens long by "
     "default, with an overlap of 30 tokens [1]. Files above 20 MB are skipped [1]."),
    ("admins", "heading", "**Who may run admin commands**\n\nEveryone may run `help` and `status` "
     "[1]. Every other command is only for the people listed in `LOREBOT_ADMINS` [1]. Every "
     "command, allowed or refused, is recorded in the audit log [1]."),
    ("admins", "passive", "`help` and `status` may be run by everyone [1]. Every other command is "
     "only for the people listed in `LOREBOT_ADMINS` [1]. Every command, allowed or refused, is "
     "recorded in the audit log [1]."),
    ("slack", "bullets", "- Copy the Bot User OAuth Token into `.env` as `SLACK_BOT_TOKEN` [1].\n"
     "- Socket Mode needs no public URL [1].\n- HTTP mode: lorebot listens on `LOREBOT_HTTP_PORT` "
     "(default 3000) [1]."),
    ("slack", "greeting", "Sure! Copy the Bot User OAuth Token into `.env` as `SLACK_BOT_TOKEN` "
     "[1]. Note that Socket Mode needs no public URL [1]. In HTTP mode, lorebot listens on "
     "`LOREBOT_HTTP_PORT`, which defaults to 3000 [1]."),
    ("slack_app", "bullets to prose", "Paste `adapters/slack/manifest.yml` and create the app [1]. "
     "Then install the app to your workspace [1]. Finally, copy the Bot User OAuth Token into "
     "`.env` as `SLACK_BOT_TOKEN` [1]."),
    ("slack_app", "bold steps", "1. **Paste** `adapters/slack/manifest.yml` and create the app "
     "[1].\n2. **Install** the app to your workspace [1].\n3. **Copy** the Bot User OAuth Token "
     "into `.env` as `SLACK_BOT_TOKEN` [1]."),
    ("deploy", "bullets + summary", "Deploy windows at a glance:\n\n- Deploys to Production are "
     "allowed from Monday 08:00 to Thursday 16:00 [1].\n- On Friday, only hotfixes approved by "
     "the on-call lead may be deployed [1].\n- Release notes must be uploaded to the wiki before "
     "a deploy [1]."),
    ("deploy", "passive to active", "You may deploy to Production from Monday 08:00 to Thursday "
     "16:00 [1]. On Friday, only hotfixes approved by the on-call lead may be deployed [1]. "
     "Before a deploy, release notes must be uploaded to the wiki [1]."),
    ("deploy", "reorder", "On Friday, only hotfixes approved by the on-call lead may be deployed "
     "[1]. Deploys to Production are allowed from Monday 08:00 to Thursday 16:00 [1]. Release "
     "notes must be uploaded to the wiki before a deploy [1]."),
    ("tokens", "splitting", "Access tokens expire after 24 hours [1]. Refresh tokens are valid "
     "for 90 days [1]. Tokens are stored in the vault, never in the repository [1]."),
    ("tokens", "bullets", "- Access tokens expire after 24 hours [1].\n- Refresh tokens are valid "
     "for 90 days [1].\n- Tokens are stored in the vault, never in the repository [1]."),
    ("envs", "tone", "Heads up: Staging is reset every night, so please do not store test data "
     "there [1]. Production backups are kept for 30 days [1]."),
    ("envs", "reorder", "Production backups are kept for 30 days [1]. Staging, on the other hand, "
     "is reset every night, so do not store test data there [1]."),
    ("expenses", "bullets", "- Expenses above 500 EUR must be approved by the finance partner "
     "before purchase [1].\n- Smaller expenses can be reimbursed within two weeks if you upload "
     "the receipt [1].\n- Travel must be booked at least 14 days in advance [1]."),
    ("expenses", "numbers in digits", "Expenses above 500 EUR must be approved by the finance "
     "partner before purchase [1]. Smaller expenses can be reimbursed within 2 weeks if you "
     "upload the receipt [1]. Travel must be booked at least fourteen days in advance [1]."),
    ("oncall", "numbers in words", "The on-call lead answers pages within fifteen minutes [1]. If "
     "the lead does not answer, the page escalates to the engineering manager after 30 minutes "
     "[1]. Every incident needs a postmortem within 3.5 days [1]."),
    ("oncall", "heading + bullets", "### Paging\n\n- The on-call lead answers pages within 15 "
     "minutes [1].\n- If the lead does not answer, the page escalates to the engineering manager "
     "after 30 minutes [1].\n- Every incident needs a postmortem within three and a half days "
     "[1]."),
    ("release", "bold + prose", "**Release steps:** run `make test` on the release branch [1], "
     "tag the release as v2.4.0 [1], run `make deploy ENV=staging` [1], and after the smoke "
     "tests pass, promote the build to Production [1]."),
    ("release", "bullets keep order", "- Run `make test` on the release branch [1].\n- Tag the "
     "release as v2.4.0 [1].\n- Run `make deploy ENV=staging` [1].\n- Promote the build to "
     "Production after the smoke tests pass [1]."),
    ("vpn", "heading + bullets", "## VPN\n\n- Connect with `vpn connect --profile corp` [1].\n- "
     "The client reads `~/.config/corp/vpn.toml` [1].\n- All laptops must run client version "
     "5.2 or later [1].\n- Help: https://it.example.com/vpn [1]"),
    ("vpn", "shortening", "Connect with `vpn connect --profile corp` [1]; the client reads "
     "~/.config/corp/vpn.toml [1]. All laptops must run client version 5.2 or later [1]. Help: "
     "https://it.example.com/vpn [1]."),
    ("normandy", "shortening", "The Duchy of Normandy began in 911 as a fiefdom [1]. It was "
     "established by the treaty of Saint-Clair-sur-Epte between King Charles III of West Francia "
     "and Rollo [1]. The treaty offered Rollo the French lands between the river Epte and the "
     "Atlantic coast [1]."),
    ("normandy", "bullets", "Here is a summary:\n\n- The Duchy of Normandy began in 911 as a "
     "fiefdom [1].\n- It was established by the treaty of Saint-Clair-sur-Epte between King "
     "Charles III of West Francia and the Viking ruler Rollo [1].\n- The treaty offered Rollo the "
     "French lands between the river Epte and the Atlantic coast [1]."),
    ("herve", "reorder", "In the 1060s, Robert Crispin led the Normans of Edessa against the "
     "Turks [1]. In the 1050s, Hervé was one of the first Norman mercenaries to serve "
     "as a Byzantine general [1]. Roussel de Bailleul was stopped by the Byzantine general "
     "Alexius Komnenos [1]."),
    ("herve", "active voice", "Hervé was one of the first Norman mercenaries to serve as a "
     "Byzantine general, in the 1050s [1]. In the 1060s, Robert Crispin led the Normans of "
     "Edessa against the Turks [1]. The Byzantine general Alexius Komnenos stopped Roussel de "
     "Bailleul [1]."),
    ("decision", "bold", "A **decision problem** is a computational problem whose answer is "
     "either **yes** or **no** [1]. If the algorithm returns the answer yes, it is said to "
     "accept the input string [1]."),
    ("decision", "merging", "A decision problem is a computational problem whose answer is either "
     "yes or no, and if the algorithm returns the answer yes, it is said to accept the input "
     "string [1]."),
    ("bounds", "tone", "In short: to show an upper bound T(n), one needs to show only that there "
     "is a particular algorithm with running time at most T(n) [1]. Proving lower bounds is much "
     "more difficult, since lower bounds make a statement about all possible algorithms [1]."),
    ("scotland", "passive", "Normans and Norman culture were introduced to Scotland by King David "
     "I of Scotland [1]. His elder brother Alexander I had married Sybilla of Normandy [1]."),
    ("scotland", "merging", "King David I of Scotland, whose elder brother Alexander I had married "
     "Sybilla of Normandy, introduced Normans and Norman culture to Scotland [1]."),
    ("england", "passive", "In 1066, England was conquered by Duke William II of Normandy [1]. "
     "The Anglo-Saxons were replaced by the Normans as the ruling class of England [1]."),
    ("england", "bullets", "- 1066: Duke William II of Normandy conquered England [1].\n- The "
     "Normans replaced the Anglo-Saxons as the ruling class of England [1]."),
    ("ingest", "thanks", "Thanks for asking! Run `lorebot ingest NAME` to ingest one source [1]. "
     "Use `lorebot ingest --all` to ingest every source [1]. Re-ingesting only processes what "
     "changed, so frequent schedules are cheap [2]."),
    ("tokens", "look-alike digits unchanged", "Access tokens expire after \uff12\uff14 hours, and "
     "refresh tokens are valid for 90 days [1]. Tokens are stored in the vault, never in the "
     "repository [1]."),
]


# --- second batch: drafts written later, cases first run as held-out checks ------------------
# (kept here so they stay regression tests; the kinds were assigned by hand)
_MORE = {'complexity': {'draft': 'A problem is regarded as inherently difficult if its solution requires '
                   'significant resources, whatever the algorithm used [1]. The theory '
                   'quantifies the resources needed to solve problems, such as time and '
                   'storage [1].',
          'sources': ['A problem is regarded as inherently difficult if its solution '
                      'requires significant resources, whatever the algorithm used. The '
                      'theory formalizes this intuition, by introducing mathematical models '
                      'of computation to study these problems and quantifying the amount of '
                      'resources needed to solve them, such as time and storage. Other '
                      'complexity measures are also used, such as the amount of '
                      'communication, the number of gates in a circuit and the number of '
                      'processors.']},
 'conquest': {'draft': 'The Normans conquered England in 1066 [1]. William was crowned on '
                 'Christmas Day [1]. The Domesday Book was completed in 1086 [2].',
        'sources': ['In 1066 the Normans conquered England, and William was crowned on '
                    'Christmas Day.',
                    'The Domesday Book, a great survey, was completed in 1086 for King '
                    'William.']},
 'discord_sync': {'draft': 'Slash commands sync globally, which can take up to an hour the first '
                     'time [1]. Set `DISCORD_GUILD_IDS` to your server ids to sync them '
                     'instantly to those servers [1]. Direct messages are answered when '
                     '`DISCORD_ANSWER_DMS=true`, the default [1].',
            'sources': ['# Using lorebot in Discord\n'
                        '\n'
                        '## Create the bot\n'
                        '\n'
                        '1. Open the Discord Developer Portal, create an application and add '
                        'a Bot.\n'
                        '2. Under "Privileged Gateway Intents" enable **Message Content** '
                        '(needed to read mentions and\n'
                        '   thread follow-ups).\n'
                        '3. Copy the bot token into `.env` as `DISCORD_TOKEN`.\n'
                        '4. Invite the bot with the OAuth2 URL generator: scopes `bot` and '
                        '`applications.commands`,\n'
                        '   permissions Send Messages, Create Public Threads, Send Messages '
                        'in Threads, Read Message\n'
                        '   History and Add Reactions.\n'
                        '5. Run `lorebot serve`.\n'
                        '\n'
                        '## Asking questions\n'
                        '\n'
                        '- Mention the bot: `@lorebot where is the on-call schedule?` It '
                        'answers in a thread.\n'
                        '- `/ask question:...` works in any channel the bot can see.\n'
                        '- Direct messages are answered when `DISCORD_ANSWER_DMS=true` (the '
                        'default).\n'
                        '\n'
                        'Slash commands sync globally, which can take up to an hour the '
                        'first time. Set\n'
                        '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to '
                        'those servers.\n'
                        '\n'
                        '## Feedback and admin commands\n'
                        '\n'
                        'React with 👍 or 👎 to vote on an answer. `/lore help` lists the '
                        'admin commands; only\n'
                        'people in `LOREBOT_ADMINS` (for example `discord:123456789`) or, '
                        'when\n'
                        '`TRUST_PLATFORM_ADMINS=true`, members with the Manage Server '
                        'permission may run them.\n'
                        '\n'
                        '## Large servers\n'
                        '\n'
                        'For bots in many servers set `DISCORD_SHARDED=true` to use '
                        'automatic sharding.\n']},
 'doctor': {'draft': 'Start with `lorebot doctor`: it checks the settings, the database and its '
               'schema [1]. A source with 0 chunks was never ingested; run `lorebot ingest '
               'NAME` [1]. A failed document never stops the others [1].',
            'sources': ['# Troubleshooting\n'
                  '\n'
                  'Start with `lorebot doctor`: it checks the settings, the database and its '
                  'schema, the\n'
                  'embedding model, and which chat adapters have credentials.\n'
                  '\n'
                  '## lorebot answers "I don\'t know" to everything\n'
                  '\n'
                  '- Nothing is indexed yet: run `lorebot sources list`. A source with 0 '
                  'chunks was never\n'
                  '  ingested; run `lorebot ingest NAME`.\n'
                  '- The channel is scoped to a collection that holds nothing: check `scope '
                  'show` in that channel.\n'
                  '- The question uses words the documents do not. Try the wording your docs '
                  'use.\n'
                  '\n'
                  '## An ingest reports failed documents\n'
                  '\n'
                  'Run `lorebot sources show NAME`: the last errors list each document with '
                  'its reason. Typical\n'
                  'reasons and fixes:\n'
                  '\n'
                  '- "empty file": the file has no text; nothing to do.\n'
                  '- "binary content ... in a file with a text extension": the file is not '
                  'text; exclude it.\n'
                  '- "file is N MB, above INGEST_MAX_FILE_MB": raise `INGEST_MAX_FILE_MB` or '
                  'exclude the file.\n'
                  '- "only secrets, nothing to index": the file held only credentials, which '
                  'lorebot never indexes.\n'
                  '- a PDF that "cannot be read": the PDF is damaged or encrypted; export it '
                  'again.\n'
                  '\n'
                  'A failed document never stops the others, and its previously indexed '
                  'version stays searchable.\n'
                  '\n'
                  '## "an ingest of this source is already running"\n'
                  '\n'
                  'Only one ingest per source runs at a time, across all lorebot processes '
                  'sharing the database.\n'
                  'Wait for the running one to finish. If a process was killed, the lock is '
                  'released\n'
                  'automatically when its database connection closes.\n'
                  '\n'
                  '## "the stored vectors were made by embedding model ..."\n'
                  '\n'
                  '`EMBEDDING_MODEL` changed since the documents were indexed. Run\n'
                  '`lorebot ingest --all --reembed`, or set `EMBEDDING_MODEL` back to the '
                  'old model.\n'
                  '\n'
                  '## An ingest was interrupted\n'
                  '\n'
                  'Nothing is lost: each document is written in its own transaction, so the '
                  'index keeps serving\n'
                  'the previous version of anything that was not finished. Run `lorebot '
                  'ingest NAME` again; it\n'
                  'continues where the last run stopped and skips everything unchanged.\n'
                  '\n'
                  '## The embedded database does not start\n'
                  '\n'
                  'Check that `LOREBOT_DATA_DIR` is writable and not on a network file '
                  'system, and read the\n'
                  'log file the error message names. To use your own PostgreSQL instead, set '
                  '`DATABASE_URL`.\n']},
 'faq_style': {'draft': 'Votes and corrections may train an optional style model that changes how '
                  'answers are phrased [1]. Nothing is sent to a third party unless you '
                  'configure an external language model with `LLM_PROVIDER` [1].',
         'sources': ['# Frequently asked questions\n'
                     '\n'
                     '## Does lorebot learn facts from our conversations?\n'
                     '\n'
                     'No. Facts come only from searching the indexed sources, and every '
                     'answer cites them. Votes\n'
                     'and corrections may train an optional style model that changes how '
                     'answers are phrased, and\n'
                     'a guard rejects any rewrite that adds a number, name, link or citation '
                     'that is not in the\n'
                     'sources.\n'
                     '\n'
                     '## Where is our data stored?\n'
                     '\n'
                     'In one PostgreSQL database: the embedded one inside '
                     '`LOREBOT_DATA_DIR`, or yours when\n'
                     '`DATABASE_URL` is set. Nothing is sent to a third party unless you '
                     'configure an external\n'
                     'language model with `LLM_PROVIDER`.\n'
                     '\n'
                     '## Are secrets in our docs safe?\n'
                     '\n'
                     'API keys, tokens, private keys, passwords in URLs, and by default '
                     'e-mail addresses and phone\n'
                     'numbers are redacted before anything is embedded or stored in the '
                     'index.\n'
                     '\n'
                     '## How fresh are the answers?\n'
                     '\n'
                     'As fresh as the last ingest. Give a source a schedule (`--every 6h`) '
                     'or run\n'
                     '`lorebot ingest NAME` after big documentation changes. Re-ingesting '
                     'only processes what\n'
                     'changed, so frequent schedules are cheap.\n'
                     '\n'
                     '## Can different channels see different documents?\n'
                     '\n'
                     'Yes. Put sources into collections (`--collection`), then restrict a '
                     'channel with the admin\n'
                     'command `scope set #channel COLLECTION...`.\n'
                     '\n'
                     '## Which file types are supported?\n'
                     '\n'
                     'Markdown, plain text, reStructuredText, HTML, PDF, DOCX and source '
                     'code files, plus web pages,\n'
                     'git repositories and JSONL files.\n'
                     '\n'
                     '## How big can the knowledge base be?\n'
                     '\n'
                     'Hundreds of thousands of chunks work well on one PostgreSQL server '
                     "with pgvector's HNSW index.\n"
                     'The first ingest is bound by embedding speed; later ingests only embed '
                     'what changed.\n']},
 'policy_data': {'draft': 'Test data must not be stored in Production [1]. Staging is reset '
                    'nightly, and Staging backups are kept for 7 days [1]. Only hotfixes '
                    'approved by the on-call lead can ship on Fridays [2]. Run the '
                    'migrations before you restart the service [2].',
           'sources': ['Production holds customer data; do not store test data there. '
                       'Staging is reset nightly. Staging backups are kept for 7 days, '
                       'Production backups for 30 days.',
                       'Friday rule: only hotfixes approved by the on-call lead can ship; '
                       'the finance partner approves budgets. Run the migrations before you '
                       'restart the service, never after.']},
 'reviews': {'draft': "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, "
                'and sessions last 12 hours [1]. Use `kubectl rollout undo deploy/api` to '
                'roll back [2]. If the error rate is above 5%, page the SRE team [2].',
             'sources': ["Reviews: Alice reviews Bob's pull requests; Carol reviews Alice's. The "
                   'cache expires after 10 minutes, and sessions last 12 hours.',
                   'Rollback: `kubectl rollout undo deploy/api` (see /docs/rollback.md). If '
                   'the error rate is above 5%, page the SRE team; below 1% no action is '
                   'needed.']}}
DRAFTS.update(_MORE)
FACT_CHANGES += [('policy_data',
  'modality',
  'Test data may be stored in Production [1]. Staging is reset nightly, and Staging backups are '
  'kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays [2]. Run '
  'the migrations before you restart the service [2].'),
 ('policy_data',
  'role',
  'Test data must not be stored in Staging [1]. Staging is reset nightly, and Staging backups are '
  'kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays [2]. Run '
  'the migrations before you restart the service [2].'),
 ('policy_data',
  'role',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Production '
  'backups are kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays '
  '[2]. Run the migrations before you restart the service [2].'),
 ('policy_data',
  'number',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for a week [1]. Only hotfixes approved by the on-call lead can ship on Fridays [2]. '
  'Run the migrations before you restart the service [2].'),
 ('policy_data',
  'scope',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days [1]. Hotfixes approved by the on-call lead can ship on Fridays [2]. Run the '
  'migrations before you restart the service [2].'),
 ('policy_data',
  'role',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days [1]. Only hotfixes approved by the finance partner can ship on Fridays [2]. '
  'Run the migrations before you restart the service [2].'),
 ('policy_data',
  'relation',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays [2]. '
  'Run the migrations after you restart the service [2].'),
 ('policy_data',
  'relation',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays [2]. '
  'Restart the service before you run the migrations [2].'),
 ('policy_data',
  'new word',
  'Never store test data in Production [1]. Staging is reset weekly, and Staging backups are kept '
  'for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays [2]. Run the '
  'migrations before you restart the service [2].'),
 ('policy_data',
  'day',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Mondays [2]. '
  'Run the migrations before you restart the service [2].'),
 ('policy_data',
  'scope',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days [1]. Only hotfixes approved by the on-call lead can ship on Fridays, and '
  'any change needs a ticket [2]. Run the migrations before you restart the service [2].'),
 ('policy_data',
  'citation',
  'Test data must not be stored in Production [1]. Staging is reset nightly, and Staging backups '
  'are kept for 7 days. Only hotfixes approved by the on-call lead can ship on Fridays [2]. Run '
  'the migrations before you restart the service [2].'),
 ('reviews',
  'role',
  "Bob reviews Alice's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is above '
  '5%, page the SRE team [2].'),
 ('reviews',
  'number',
  "Alice reviews Bob's pull requests [1]. The cache expires after 12 hours, and sessions last 10 "
  'minutes [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is above '
  '5%, page the SRE team [2].'),
 ('reviews',
  'command',
  "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout restart deploy/api` to roll back [2]. If the error rate is '
  'above 5%, page the SRE team [2].'),
 ('reviews',
  'file path',
  "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/web` to roll back [2]. If the error rate is above '
  '5%, page the SRE team [2].'),
 ('reviews',
  'relation',
  "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is below '
  '5%, page the SRE team [2].'),
 ('reviews',
  'condition',
  "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. Unless the error rate is '
  'above 5%, page the SRE team [2].'),
 ('reviews',
  'number',
  "Alice reviews Bob's pull requests [1]. The cache expires after ten minutes, and sessions last "
  'twelve days [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is '
  'above 5%, page the SRE team [2].'),
 ('reviews',
  'role',
  "Carol reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is above '
  '5%, page the SRE team [2].'),
 ('reviews',
  'command flag',
  "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/api --force` to roll back [2]. If the error rate is '
  'above 5%, page the SRE team [2].'),
 ('reviews',
  'role',
  "Bob's pull requests are reviewed by Carol [1]. The cache expires after 10 minutes, and sessions "
  'last 12 hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is '
  'above 5%, page the SRE team [2].'),
 ('reviews',
  'role',
  "Alice's pull requests are reviewed by Bob [1]. The cache expires after 10 minutes, and sessions "
  'last 12 hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is '
  'above 5%, page the SRE team [2].'),
 ('reviews',
  'scope',
  "Alice reviews Bob's pull requests [1]. The cache expires after 10 minutes, and sessions last 12 "
  'hours [1]. Use `kubectl rollout undo deploy/api` to roll back [2]. If the error rate is above '
  '5%, page the whole SRE team [2].'),
 ('conquest',
  'name',
  'The Normans conquered England in 1066 [1]. William was crowned on Easter Day [1]. The Domesday '
  'Book was completed in 1086 [2].'),
 ('conquest',
  'role',
  'England conquered the Normans in 1066 [1]. William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed in 1086 [2].'),
 ('conquest',
  'number',
  'The Normans conquered England in 1066 [1]. William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed in 1068 [2].'),
 ('conquest',
  'number',
  'The Normans conquered England in 1066 [1]. William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed twenty years later [2].'),
 ('conquest',
  'citation',
  'The Normans conquered England in 1066 [1]. King William was crowned on Christmas Day [2]. The '
  'Domesday Book was completed in 1086 [1].'),
 ('conquest',
  'polarity',
  'The Normans never conquered England in 1066 [1]. William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed in 1086 [2].'),
 ('discord_sync',
  'number',
  'Slash commands sync globally, which can take up to a day the first time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to those servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('discord_sync',
  'number',
  'Slash commands sync globally, which can take up to two hours the first time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to those servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('discord_sync',
  'relation',
  'Slash commands sync globally, which can take at least an hour the first time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to those servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('discord_sync',
  'scope',
  'Slash commands sync globally, which can take up to an hour the first time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to all servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('discord_sync',
  'role',
  'Slash commands sync instantly, which can take up to an hour the first time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them globally to those servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('discord_sync',
  'command',
  'Slash commands sync globally, which can take up to an hour the first time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to those servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=false`, the default [1].'),
 ('discord_sync',
  'identifier',
  'Slash commands sync globally, which can take up to an hour the first time [1]. Set '
  '`DISCORD_TOKEN` to your server ids to sync them instantly to those servers [1]. Direct messages '
  'are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('discord_sync',
  'scope',
  'Slash commands sync globally, which can take up to an hour every time [1]. Set '
  '`DISCORD_GUILD_IDS` to your server ids to sync them instantly to those servers [1]. Direct '
  'messages are answered when `DISCORD_ANSWER_DMS=true`, the default [1].'),
 ('doctor',
  'number',
  'Start with `lorebot doctor`: it checks the settings, the database and its schema [1]. A source '
  'with 1 chunk was never ingested; run `lorebot ingest NAME` [1]. A failed document never stops '
  'the others [1].'),
 ('doctor',
  'new word',
  'Start with `lorebot doctor`: it repairs the settings, the database and its schema [1]. A source '
  'with 0 chunks was never ingested; run `lorebot ingest NAME` [1]. A failed document never stops '
  'the others [1].'),
 ('doctor',
  'command',
  'Start with `lorebot doctor`: it checks the settings, the database and its schema [1]. A source '
  'with 0 chunks was never ingested; run `lorebot ingest --all` [1]. A failed document never stops '
  'the others [1].'),
 ('doctor',
  'scope',
  'Start with `lorebot doctor`: it checks the settings, the database and its schema [1]. A source '
  'with 0 chunks was never ingested; run `lorebot ingest NAME` [1]. A failed document always stops '
  'the others [1].'),
 ('doctor',
  'polarity',
  'Start with `lorebot doctor`: it checks the settings, the database and its schema [1]. A source '
  'with 0 chunks was ingested; run `lorebot ingest NAME` [1]. A failed document never stops the '
  'others [1].'),
 ('doctor',
  'role',
  'Finish with `lorebot doctor`: it checks the settings, the database and its schema [1]. A source '
  'with 0 chunks was never ingested; run `lorebot ingest NAME` [1]. A failed document never stops '
  'the others [1].'),
 ('faq_style',
  'modality',
  'Votes and corrections must train an optional style model that changes how answers are phrased '
  '[1]. Nothing is sent to a third party unless you configure an external language model with '
  '`LLM_PROVIDER` [1].'),
 ('faq_style',
  'condition',
  'Votes and corrections may train an optional style model that changes how answers are phrased '
  '[1]. Nothing is sent to a third party if you configure an external language model with '
  '`LLM_PROVIDER` [1].'),
 ('faq_style',
  'new word',
  'Votes and corrections may train an optional style model that changes which facts answers '
  'contain [1]. Nothing is sent to a third party unless you configure an external language model '
  'with `LLM_PROVIDER` [1].'),
 ('faq_style',
  'modality',
  'Votes and corrections may train a required style model that changes how answers are phrased '
  '[1]. Nothing is sent to a third party unless you configure an external language model with '
  '`LLM_PROVIDER` [1].'),
 ('faq_style',
  'scope',
  'Votes may train an optional style model that changes how answers are phrased [1]. Everything is '
  'sent to a third party unless you configure an external language model with `LLM_PROVIDER` [1].'),
 ('complexity',
  'new word',
  'A problem is regarded as inherently easy if its solution requires significant resources, '
  'whatever the algorithm used [1]. The theory quantifies the resources needed to solve problems, '
  'such as time and storage [1].'),
 ('complexity',
  'scope',
  'A problem is regarded as inherently difficult if its solution requires few resources, whatever '
  'the algorithm used [1]. The theory quantifies the resources needed to solve problems, such as '
  'time and storage [1].'),
 ('complexity',
  'role',
  'A problem is regarded as inherently difficult if its solution requires significant resources, '
  'whatever the algorithm used [1]. The theory quantifies the resources needed to solve problems, '
  'such as communication and processors [1].'),
 ('complexity',
  'condition',
  'A problem is regarded as inherently difficult unless its solution requires significant '
  'resources, whatever the algorithm used [1]. The theory quantifies the resources needed to solve '
  'problems, such as time and storage [1].'),
 ('complexity',
  'scope',
  'A problem is regarded as inherently difficult if its solution requires significant resources, '
  'for the best algorithm used [1]. The theory quantifies the resources needed to solve problems, '
  'such as time and storage [1].')]
STYLE_ONLY += [('policy_data',
  'held-out style',
  '- Never store test data in Production [1].\n'
  '- Staging is reset nightly; Staging backups are kept for 7 days [1].\n'
  '- Fridays: only hotfixes approved by the on-call lead can ship [2].\n'
  '- Run the migrations before you restart the service [2].'),
 ('policy_data',
  'held-out style',
  '**Summary:** test data must not be stored in Production [1].\n'
  '\n'
  'Also note: Staging is reset nightly, and Staging backups are kept for 7 days [1]. Only hotfixes '
  'approved by the on-call lead can ship on Fridays [2]. Before you restart the service, run the '
  'migrations [2].'),
 ('reviews',
  'held-out style',
  "Bob's pull requests are reviewed by Alice [1]. The cache expires after 10 minutes, and sessions "
  'last 12 hours [1]. To roll back, use `kubectl rollout undo deploy/api` [2]. Page the SRE team '
  'if the error rate is above 5% [2].'),
 ('reviews',
  'held-out style',
  "1. Alice reviews Bob's pull requests [1].\n"
  '2. The cache expires after ten minutes; sessions last twelve hours [1].\n'
  '3. Roll back with `kubectl rollout undo deploy/api` [2].\n'
  '4. Error rate above 5%? Page the SRE team [2].'),
 ('conquest',
  'held-out style',
  'In 1066, the Normans conquered England [1], and William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed in 1086 [2].'),
 ('conquest',
  'held-out style',
  'England was conquered by the Normans in 1066 [1]. William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed in 1086 [2].'),
 ('conquest',
  'held-out style',
  'Hello! The Normans conquered England in 1066 and William was crowned on Christmas Day [1]. The '
  'Domesday Book was completed in 1086 [2].'),
 ('discord_sync',
  'held-out style',
  '**Syncing slash commands**\n'
  '\n'
  '- Globally: can take up to an hour the first time [1].\n'
  '- Instantly: set `DISCORD_GUILD_IDS` to your server ids [1].\n'
  '\n'
  'Direct messages are answered when `DISCORD_ANSWER_DMS=true` (the default) [1].'),
 ('discord_sync',
  'held-out style',
  'Heads up: global slash command sync can take up to an hour the first time [1]. To sync them '
  'instantly to your servers, set `DISCORD_GUILD_IDS` to your server ids [1]. DMs are answered by '
  'default (`DISCORD_ANSWER_DMS=true`) [1].'),
 ('doctor',
  'held-out style',
  'First, run `lorebot doctor`, which checks the settings, the database and its schema [1]. If a '
  'source has 0 chunks, it was never ingested: run `lorebot ingest NAME` [1]. Good to know: a '
  'failed document never stops the others [1].'),
 ('doctor',
  'held-out style',
  '1. Start with `lorebot doctor` (it checks the settings, the database and its schema) [1].\n'
  '2. A source with 0 chunks was never ingested, so run `lorebot ingest NAME` [1].\n'
  '\n'
  'Note: a failed document never stops the others [1].'),
 ('faq_style',
  'held-out style',
  'An optional style model, trained by votes and corrections, may change how answers are phrased '
  '[1]. Unless you configure an external language model with `LLM_PROVIDER`, nothing is sent to a '
  'third party [1].'),
 ('faq_style',
  'held-out style',
  '**Short answer:** nothing is sent to a third party unless you configure an external language '
  'model with `LLM_PROVIDER` [1].\n'
  '\n'
  'Votes and corrections may train an optional style model that changes how answers are phrased '
  '[1].'),
 ('complexity',
  'held-out style',
  'In short, a problem is inherently difficult if its solution requires significant resources, '
  'whatever the algorithm used [1]. The theory quantifies the resources needed to solve problems '
  '(such as time and storage) [1].'),
 ('complexity',
  'held-out style',
  '- A problem counts as inherently difficult if its solution requires significant resources, '
  'whatever the algorithm used [1].\n'
  '- The theory quantifies the resources needed to solve problems, e.g. time and storage [1].')]

# --- third batch: numbers of one unit bound to different subjects ---------------------------
DRAFTS["capacity"] = {
    "draft": "Keep 3 replicas and 5 workers [1]. Access tokens expire after 24 hours and refresh "
             "tokens expire after 48 hours [1].",
    "sources": ["Capacity: keep 3 replicas and 5 workers per region. Access tokens expire after 24 "
                "hours and refresh tokens expire after 48 hours."]}
FACT_CHANGES += [
    ("capacity", "number", "Keep 5 replicas and 3 workers [1]. Access tokens expire after 24 hours "
     "and refresh tokens expire after 48 hours [1]."),
    ("capacity", "number", "Keep 3 replicas and 5 workers [1]. Access tokens expire after 48 hours "
     "and refresh tokens expire after 24 hours [1]."),
    ("capacity", "number", "Keep 3 replicas and 5 workers [1]. Access tokens expire after 24 hours "
     "and refresh tokens expire after 48 minutes [1]."),
]
STYLE_ONLY += [
    ("capacity", "reorder within a sentence", "Keep 3 replicas and 5 workers [1]. Refresh tokens "
     "expire after 48 hours and access tokens expire after 24 hours [1]."),
    ("capacity", "bullets + ellipsis", "- Keep 3 replicas and 5 workers [1].\n- Access tokens expire "
     "after 24 hours; refresh tokens after 48 hours [1]."),
]

DRAFTS["escalation"] = {
    "draft": "If a deploy fails, ask Alice or Bob in the infra channel [1]. Raise the limit or exclude "
             "the file [1].",
    "sources": ["Escalation: if a deploy fails, ask Alice or Bob in the infra channel. For oversized "
                "files, raise the limit or exclude the file."]}
FACT_CHANGES += [
    ("escalation", "scope", "If a deploy fails, ask Alice and Bob in the infra channel [1]. Raise "
     "the limit or exclude the file [1]."),
]
STYLE_ONLY += [
    ("escalation", "question form + bullets", "- Deploy failed? Ask Alice or Bob in the infra "
     "channel [1].\n- Raise the limit, or exclude the file [1]."),
]
