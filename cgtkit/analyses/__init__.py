"""Analyses: a data set + attribute metadata + the user's choices -> calls of :mod:`cgtkit.stats` -> typed results.

This layer knows the attribute metadata (:mod:`cgtkit.attributes`), the lot
data format (:mod:`cgtkit.io`) and cgtkit's policies (investigational
coverage, replay checkpoints, physical bounds); the statistics it calls know
only numbers. No widget, page or session import here.

:mod:`cgtkit.analyses.specifications`
    One attribute's release data; candidate commercial criteria with their
    false-OOS risk; phase-appropriate investigational proposals.
:mod:`cgtkit.analyses.lifecycle`
    The lifecycle replay: criteria reset at checkpoints, with typed readings
    and the renderer that turns them into sentences.
"""
