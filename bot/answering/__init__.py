"""The platform-free answering service: question in, grounded answer (or honest abstention) out."""
