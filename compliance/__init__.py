"""compliance: checks reposted articles for attribution, disclaimer, licence and scraping debris."""

__version__ = "0.1.0"
