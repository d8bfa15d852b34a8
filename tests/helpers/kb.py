"""Loads a handful of documents into a test database with real MiniLM embeddings."""

from __future__ import annotations

from bot.db.session import Database
from bot.settings import Settings
from knowledge.embeddings import Embedder, embedder_from_settings
from knowledge.evaluation import write_corpus
from knowledge.types import Chunk, Document

# Small, distinct topics so a right answer and a wrong one are easy to tell apart.
KB_DOCS: dict[str, list[tuple[str, str, list[tuple[str, str]]]]] = {
    "engineering": [
        ("deploy.md", "Deploying the API", [
            ("Deploying > Production",
             "Production deploys run from the main branch every weekday at 14:00 UTC. "
             "The deploy pipeline builds a container image and rolls it out with blue-green "
             "switching."),
            ("Deploying > Rollback",
             "To roll back a bad deploy, run `make rollback ENV=prod`. Rollbacks take about "
             "three minutes and page the on-call engineer."),
        ]),
        ("errors.md", "Error codes", [
            ("Errors > E4127",
             "Error E4127 means the payment gateway rejected the card token. Retry with a new "
             "token; do not retry the same token more than twice."),
        ]),
        ("vacation.md", "Vacation policy", [
            ("HR > Vacation",
             "Employees get 28 days of paid vacation per year. Unused vacation days carry over "
             "until the end of March of the following year."),
        ]),
    ],
    "secret-hr": [
        ("salaries.md", "Salary bands", [
            ("HR > Salaries",
             "The salary band for a senior engineer is confidential and is reviewed every "
             "January by the compensation committee."),
        ]),
    ],
}


def shared_embedder(settings: Settings) -> Embedder:
    return embedder_from_settings(settings)


def load_kb(database: Database, settings: Settings,
            kb: dict[str, list[tuple[str, str, list[tuple[str, str]]]]] | None = None) -> None:
    embedder = shared_embedder(settings)
    for collection, docs in (kb or KB_DOCS).items():
        rows = []
        for path, title, chunks in docs:
            body = "\n".join(t for _, t in chunks)
            doc = Document(external_id=path, text=body, title=title, uri=f"docs/{path}",
                           metadata={"team": "platform" if collection == "engineering" else "hr"})
            rows.append((doc, [Chunk(text=t, ordinal=i, heading_path=h)
                               for i, (h, t) in enumerate(chunks)]))
        with database.session() as s:
            write_corpus(session=s, embedder=embedder, collection=collection,
                         source=f"src-{collection}", docs=rows, kind="folder")
