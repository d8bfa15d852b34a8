"""Knowledge sources: where documents come from.

``base`` (the Source protocol, SourceSpec, SourceUnavailable), ``registry`` (build_source,
guess_kind, plugins), one module per kind (``folder``, ``web``, ``git``, ``jsonl``), and the
shared parts: ``readers`` (one function per file format), ``decoding`` (bytes to text),
``html_text`` (HTML main text), ``files`` (a file to a Document, skip rules), ``http_fetch``
(polite HTTP), ``sitemap`` (sitemap parsing).
"""
