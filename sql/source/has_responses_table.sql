SELECT to_regclass('responses') IS NOT NULL
