"""What a run learned, for people: the text report, the plots, report.html, and explain (equation, units,
sensitivity, symbolic readout).
"""
