"""Run with Credentials and Generate Token, without arcpy.

- :mod:`.targets`: the target types (script, REST request, GP job), made from the toolbox's
  values and checked without network access (the tool dialog uses it).
- :mod:`.outputs`: output file checks, and the private whole-or-nothing write.
- :mod:`.reporting`: the Reporter protocol, masking, log forwarding, local times.
- :mod:`.pacing`: waiting, the monotonic timer, and the user's Cancel.
- :mod:`.script`, :mod:`.job` (over :mod:`.gpjob`): running each kind of target.
- :mod:`.outcome`: run a target and write its outcome file.
- :mod:`.generate`: Generate Token's sign-in, messages and token file.

The dialog imports only targets and outputs; the rest loads when a tool runs.
"""
