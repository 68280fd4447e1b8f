"""Stories: which items, from any outlet, report the same event.

`words` turns an item's text into the words clustering compares (the matcher's folding and stems),
`scorer` says how likely two items tell the same event (weights from `data/scorer_weights.json`), and
`clusterer` puts each item into a story over a sliding time window.
"""
