"""The C++ layer pair as a source model: the lowest floor.

Here live the byte-faithful source files (BOM, line endings and non-ASCII comments kept), the lexer with
exact offsets, the declaration and layer-body readers that build the ``LayerSource`` model with a span for
every element, the libclang checks, and ``LayerError``, the one exception users see. Nothing here knows
about graphs, rewrites or the command line: this package imports no other package of the project.
"""
