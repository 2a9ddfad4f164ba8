"""The partnership's rules: value objects, commands, events and the pure deciders.

`agreement`, `group` and `follow_up` each hold `decide(command, state) ->
events` and `evolve(state, event) -> state`. Nothing here knows where facts
are stored: this package imports attrs and the standard library only.
"""
