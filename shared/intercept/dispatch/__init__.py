"""Dispatch: deliver each action on its channel (Slack, SES e-mail, signed webhook), once.

`intercept.dispatch.service` is the entry point; `slack`, `email` and `webhook` render and send,
`preview` shows a Slack message as its reader sees it. Only the standard library, boto3 and
Powertools are imported, so the dispatch function starts fast.
"""
