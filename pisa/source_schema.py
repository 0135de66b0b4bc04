"""What the product assumes of a source (DESIGN section 5), shared by the simulator that writes
sources and the sync core that reads them: one table, `responses`, keyed by `id`, with the
country code `cnt` and the four index columns as text."""

INDEX_COLUMNS = ("escs", "tmins", "belong", "durecec")
