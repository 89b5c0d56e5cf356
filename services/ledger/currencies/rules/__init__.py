"""Pure rules of currencies: what kind of money a currency is (`currency`), and how euros
become units and back (`conversion`)."""
