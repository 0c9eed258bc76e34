"""runfolder."""
