"""Typed query runners: a validated query in, loaders + computations, a typed result out.

The API and the dashboards call these, so a chart and its endpoint can never disagree.
"""
