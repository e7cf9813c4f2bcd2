"""`phaze ui`: a local web page to design a Phaze-A model and watch it train."""
