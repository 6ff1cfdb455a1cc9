-- ARGV[1] token.
return place(ARGV[1])
