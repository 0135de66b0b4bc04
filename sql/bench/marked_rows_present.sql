-- Which of the soak's marked rows (source and id arrays, pairwise) the central facts hold now.
SELECT f.source, f.id
FROM facts AS f
JOIN unnest(%s::text[], %s::int[]) AS marked(source, id) ON f.source = marked.source AND f.id = marked.id
