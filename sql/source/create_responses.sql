-- The source table as the simulator creates it: every value is text, as in the real exports.
-- {filler_columns} is composed with psycopg2.sql (", st001q01ta text, ...").
CREATE TABLE responses (
    id      integer PRIMARY KEY,
    cnt     text,
    escs    text,
    tmins   text,
    belong  text,
    durecec text
    {filler_columns}
)
