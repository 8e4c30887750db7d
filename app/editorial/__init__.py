"""The editorial core: articles, their revisions, the review workflow, comments, headline
candidates, imports and cleanup, and who may do what.

Public use cases (each one transaction): ``articles`` (create, read, update, delete),
``article_queries`` (the records responses show: one article, a search, the review
queue), ``revisions`` (list, get, diff), ``transitions.apply``
(the one way an article changes state, by hand or by ``scheduler.publish_due``),
``comments``, ``headlines`` (add, edit, accept, reorder, remove),
``imports`` (create, re-run, restore a line) and ``cleanup.execute`` (a worker's run).
Rules as data: ``workflow.MACHINE`` (the state machine) and ``policy`` (capabilities of
routes, article rules, allowed workflow actions). The text library is ``app.cleanup``.
"""
