"""What a model is to the rest of the chain, whatever trained it: an encoder (:mod:`.encoder`) with
its channel names, its preprocessing (:mod:`.preprocessing`) and its weights, saved and read in one
method-neutral form."""
