"""The typed config of a fit, the one table of options it is built from, and the rules that choose each
default from the data.
"""
