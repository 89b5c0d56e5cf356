"""Open data of the currencies: monthly figures per currency and territory, published only
where the currency's operator opted in, under statistical disclosure control."""
