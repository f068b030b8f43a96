"""Reports: render evaluation results as HTML and PDF with figures; never queries the database."""
