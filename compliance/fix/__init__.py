"""Autofix: findings whose fix is certain, made as byte edits of the repost (`compliance fix`).

Rule types make the edits (`fix()` beside `check()` in their modules, with `edits.Fix` and
`context.FixContext`); `run` plans and proves them; `write` writes a file. The catalogue is
never touched. Nothing is imported here: rule modules import `edits` while the checks load.
"""
