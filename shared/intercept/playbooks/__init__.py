"""Playbooks: decide which actions a new score calls for, and hand them to Dispatch.

- `config`: the YAML model; the packaged `default_playbooks.yaml`, or PLAYBOOKS_PATH.
- `decide`: pure decisions (conditions, tier entry and exit, bands, suppressions, cooldowns,
  holdouts, deterministic action ids).
- `store`: cooldowns, suppressions and action records in the profiles table.
- `publish`: one SNS message per action on the ActionsTopic.
- `engine`: `act_on_score` / `act_on_scores`, what the score service calls.
"""
