"""`mlpfit play`: a web page that trains a network with the library's own fit and shows every unit learn."""
