"""PainPath learn area: patient information pages with sources."""
