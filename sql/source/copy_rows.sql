-- Bulk-load rows (tab-separated text, every column in table order).
COPY responses FROM STDIN
