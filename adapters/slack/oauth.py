"""HTTP routes of the OAuth install flow, next to ``/slack/events`` on lorebot's server.

``GET /slack/install`` (a page with the "Add to Slack" link, and the state cookie) and
``GET /slack/oauth_redirect`` (Slack sends the browser back here with ``code`` and ``state``;
bolt checks the state, exchanges the code with ``oauth.v2.access`` and stores the install).
Both run bolt's ``OAuthFlow`` on a worker thread: they call the database and Slack.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def oauth_routes(app: App) -> list[Route]:
    """The install and redirect routes of ``app``'s OAuth flow; none without OAuth."""
    flow = app.oauth_flow
    if flow is None:
        return []

    async def install(request: Request) -> Response:
        bolt_request = to_bolt_request(request, await request.body())
        return to_starlette_response(await run_in_threadpool(flow.handle_installation, bolt_request))

    async def redirect(request: Request) -> Response:
        bolt_request = to_bolt_request(request, await request.body())
        return to_starlette_response(await run_in_threadpool(flow.handle_callback, bolt_request))

    return [Route(flow.install_path, install, methods=["GET"], name="slack_install"),
            Route(flow.redirect_uri_path, redirect, methods=["GET"], name="slack_oauth_redirect")]
