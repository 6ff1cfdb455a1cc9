-- ARGV[2] token.
return place(ARGV[2])
