"""udl: helpers for the Unstructured Data Learning course notebooks.

Modules, one per purpose (import what you need: ``from udl import data, viz``):

- ``settings`` every ``UDL_*`` environment variable: names, defaults, validation
- ``runtime``  seeds, device check, quick/full profiles (the setup cell of every notebook)
- ``data``     offline-first dataset loaders: mirror, cache, download, built-in sample
- ``download`` hashed, size-capped downloads and safe archive extraction (SECURITY.md)
- ``samples``  the built-in samples used when there is neither mirror nor network
- ``results``  record a notebook's key metrics; the table ``make run`` prints
- ``viz``      plots that are not the lesson
- ``augment``  augmentation presets (Keras preprocessing layers) and by-hand augmentations
- ``training`` learning-rate finder, update/weight ratio, activation statistics
- ``pretrained`` Keras applications' ImageNet weights when a network allows, else a clear reason
- ``audio``    read and pad/trim waveforms, waveform and spectrogram plots on real axes, players
- ``video``    moving-digit clips whose label needs frame order; frame strips and animations
- ``generative`` what notebooks 12-14 share: fixed-noise sample grids, the classifier score, temperature, bits per character
- ``stepcap``  ``UDL_MAX_STEPS``: every ``fit`` cut to a few timed steps (the full-profile smoke run)
- ``estimate`` the full profile's CPU time per notebook, from a capped run's step times
- ``exercises`` self-check exercises on otter-grader: questions, student editions (otter assign), ``grader``
- ``notebooks`` execute notebooks into build/, HTML, stripped and student editions
- ``slides``   the reveal.js deck layout: sub-slides, fragments, speaker notes, local assets
- ``site``     the course site: an index of the notebooks with their pages, decks and metrics
- ``template`` the notebook template of CONTRIBUTING.md: the lint, the Colab badge and install cell

Importing ``udl`` does not import TensorFlow; modules that need it import it themselves.
"""

import os as _os

__version__ = "0.1.0"

# TensorFlow's C++ INFO lines (CPU feature guard, oneDNN notes) are noise in a student's notebook;
# warnings and errors still show. Set before any udl module imports TensorFlow; an explicit value wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
