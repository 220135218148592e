"""The unit submission portal (cổng nộp báo cáo): a small web application where a unit signs in
with a one-time link sent to its registered address, downloads its month's template, uploads a
file through the same landing path as the inbox, sees what loaded and what was quarantined, its
history of submissions and its open violations, and explains one.

It is the top layer, like the CLI: it imports the layers below it and nothing imports it except
``ingest.cli``.

>>> from ingest.portal.app import create_app
>>> app = create_app()          # served by `d06 portal serve`
"""
