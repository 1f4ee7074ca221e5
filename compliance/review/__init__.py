"""`compliance review`: the HTML report served with controls to record reviewers' decisions.

A thin web layer (Starlette, optional extra `review`) over the report folder and the state
database; decisions live in compliance.state.decisions, accepted findings become waivers
through compliance.review.waivers.
"""
