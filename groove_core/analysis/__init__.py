"""Pure statistics over data frames and arrays: no database access here."""
