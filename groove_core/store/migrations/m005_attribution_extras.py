"""Version 5 (groove's own): bookkeeping of ``groove simulate`` runs for attribution.

``attribution_simulation`` keeps one row per simulation run: its seed and parameters,
the true effect of every learning it simulated (the ground truth, ``truth_json``), the
prefix of its synthetic session ids (``sim-...``), and a snapshot of everything it
changed (usage stats, confidences, learning values, experiments) so that removing the
run restores the tier exactly.
"""

VERSION = 5
DESCRIPTION = "groove: attribution simulation runs (synthetic data bookkeeping)"
CONTRACT = False

UP = [
    """:create attribution_simulation {
    run_id: String =>
    created_at: Int,
    seed: Int,
    session_prefix: String,
    params_json: String,
    truth_json: String,
    snapshot_json: String,
    summary_json: String
}""",
]

DOWN = [
    "::remove attribution_simulation",
]


def up(db):
    return UP


def down(db):
    return DOWN
