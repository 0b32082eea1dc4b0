"""Training material for the moderation text head: never imported by the deployed app.

``python -m training.train --eval-dir PATH`` rebuilds ``moderation/data/text_head.json``
from any copy of the evaluation set; ``python -m training.loso --eval-dir PATH`` compares
candidate heads by leave-one-source-out recall at a fixed benign false-positive rate.
"""
