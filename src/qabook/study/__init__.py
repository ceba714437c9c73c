"""Studying a collection: full-text search (:mod:`qabook.study.search`) and a terminal quiz with
Leitner boxes (:mod:`qabook.study.quiz`); their commands are in :mod:`qabook.study.commands`."""
