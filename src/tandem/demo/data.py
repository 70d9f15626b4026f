"""Word lists and weights the demo generators draw from (names, companies, titles, text)."""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off
# (Hand-laid-out tables: the formatter would put every word on a line of its own.)

DEMO_PASSWORD = "tandem-demo"

# ---------------------------------------------------------------------------------------------
# People: name pools by origin, so that a contact in Germany is more often called Müller.


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated list written as a paragraph (keeps long word lists compact)."""
    return tuple(" ".join(word.split()) for word in text.split(",") if word.strip())


@dataclass(frozen=True)
class NamePool:
    """First and last names of one origin."""

    first: tuple[str, ...]
    last: tuple[str, ...]


NAME_POOLS: dict[str, NamePool] = {
    "anglo": NamePool(
        first=_words(
            """
            James, Mary, Robert, Patricia, John, Jennifer, Michael, Linda, David, Elizabeth,
            William, Barbara, Richard, Susan, Joseph, Jessica, Thomas, Sarah, Christopher,
            Karen, Daniel, Emily, Matthew, Ashley, Andrew, Megan, Ryan, Rachel, Kevin, Laura,
            Brian, Amanda, Jason, Olivia, Ethan, Hannah, Tyler, Chloe, Nathan, Grace, Connor,
            Siobhan, Liam, Aoife, Oliver, Amelia, Harry, Isla, George, Poppy, Jack, Charlotte,
            Samuel, Abigail, Benjamin, Victoria, Dylan, Zoe, Marcus, Jasmine, Trevor, Kayla,
            Derek, Brooke, Shane, Morgan
            """
        ),
        last=_words(
            """
            Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson, Taylor,
            Thomas, Moore, Jackson, Martin, Thompson, White, Harris, Clark, Lewis, Robinson,
            Walker, Young, Allen, King, Wright, Scott, Hill, Green, Adams, Baker, Nelson,
            Carter, Mitchell, Roberts, Turner, Phillips, Campbell, Parker, Evans, Edwards,
            Collins, Stewart, Murphy, O'Brien, Kelly, Walsh, Byrne, Ryan, Hughes, Bennett,
            Cooper, Fletcher, Hayes, Price, Reed, Brooks, Sullivan, Foster, Graham, Ward,
            Gallagher, McCarthy
            """
        ),
    ),
    "hispanic": NamePool(
        first=_words(
            """
            Sofía, Mateo, Valentina, Santiago, Camila, Sebastián, Isabella, Diego, Lucía,
            Alejandro, Mariana, Javier, Daniela, Carlos, Gabriela, Andrés, Fernanda, Luis,
            Paula, Miguel, Carmen, José, Elena, Pablo, Ana, Jorge, Ximena, Ricardo, Natalia,
            Tomás, Renata, Emilio
            """
        ),
        last=_words(
            """
            García, Rodríguez, Martínez, Hernández, López, González, Pérez, Sánchez, Ramírez,
            Torres, Flores, Rivera, Gómez, Díaz, Morales, Reyes, Cruz, Ortiz, Gutiérrez, Chávez,
            Ramos, Vargas, Castillo, Jiménez, Romero, Herrera, Medina, Aguilar, Navarro, Molina,
            Castro, Vega, Fuentes, Rojas, Muñoz, Salazar
            """
        ),
    ),
    "portuguese": NamePool(
        first=_words(
            """
            João, Maria, Pedro, Ana, Lucas, Beatriz, Gabriel, Júlia, Rafael, Larissa, Gustavo,
            Camila, Felipe, Letícia, Thiago, Mariana, Bruno, Fernanda, Rodrigo, Carolina,
            Vinícius, Amanda, Leonardo, Isabela
            """
        ),
        last=_words(
            """
            Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes,
            Costa, Ribeiro, Martins, Carvalho, Almeida, Lopes, Soares, Fernandes, Vieira,
            Barbosa, Rocha, Dias, Nascimento, Araújo, Moreira, Cardoso
            """
        ),
    ),
    "german": NamePool(
        first=_words(
            """
            Lukas, Anna, Leon, Lena, Finn, Laura, Jonas, Lea, Felix, Julia, Maximilian, Sophie,
            Paul, Hannah, Tobias, Katharina, Florian, Johanna, Stefan, Sabine, Andreas, Claudia,
            Markus, Nicole, Matthias, Jana, Jürgen, Birgit, Niklas, Miriam, Sebastian, Franziska
            """
        ),
        last=_words(
            """
            Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann,
            Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun,
            Krüger, Hofmann, Hartmann, Lange, Schmitt, Werner, Krause, Meier, Lehmann, Huber,
            Gruber, Steiner, Brunner, Keller
            """
        ),
    ),
    "french": NamePool(
        first=_words(
            """
            Camille, Louis, Chloé, Hugo, Manon, Lucas, Léa, Théo, Inès, Antoine, Sarah, Nicolas,
            Juliette, Julien, Mathilde, Guillaume, Margaux, Baptiste, Élodie, Maxime, Céline,
            Étienne, Amélie, Pierre, Claire, Thomas, Aurélie, Benoît
            """
        ),
        last=_words(
            """
            Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau,
            Simon, Laurent, Lefebvre, Michel, David, Bertrand, Roux, Vincent, Fournier, Morel,
            Girard, André, Mercier, Dupont, Lambert, Bonnet, François, Legrand, Garnier, Faure,
            Rousseau, Blanc, Chevalier
            """
        ),
    ),
    "dutch": NamePool(
        first=_words(
            """
            Daan, Emma, Sem, Julia, Lars, Sanne, Jesse, Fleur, Thijs, Lotte, Bram, Eva, Ruben,
            Anouk, Joost, Femke, Pieter, Marieke, Wouter, Noor, Stijn, Lieke
            """
        ),
        last=_words(
            """
            de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit,
            Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker,
            Brouwer, Peeters, Maes, Jacobs, Willems, Claes, Goossens
            """
        ),
    ),
    "nordic": NamePool(
        first=_words(
            """
            Erik, Astrid, Lars, Ingrid, Magnus, Freja, Anders, Sofie, Henrik, Maja, Oskar, Elin,
            Nils, Ida, Mikkel, Sigrid, Johan, Linnea, Søren, Karin, Mikael, Aino, Jussi, Saara
            """
        ),
        last=_words(
            """
            Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsen, Hansen, Jensen,
            Nielsen, Pedersen, Christensen, Lindqvist, Berg, Lindberg, Virtanen, Korhonen,
            Mäkinen, Nieminen, Haugen, Johansen, Dahl, Sørensen
            """
        ),
    ),
    "italian": NamePool(
        first=_words(
            """
            Giulia, Marco, Francesca, Alessandro, Chiara, Lorenzo, Sara, Matteo, Martina,
            Andrea, Elisa, Davide, Federica, Simone, Valentina, Luca, Alessia, Riccardo,
            Giorgia, Stefano
            """
        ),
        last=_words(
            """
            Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco,
            Bruno, Gallo, Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti,
            Barbieri, Fontana
            """
        ),
    ),
    "slavic": NamePool(
        first=_words(
            """
            Jakub, Zuzanna, Kacper, Julia, Mateusz, Maja, Piotr, Aleksandra, Michał, Natalia,
            Tomasz, Katarzyna, Łukasz, Agnieszka, Paweł, Magdalena, Krzysztof, Monika, Andrei,
            Elena, Dmytro, Olena, Bogdan, Ivana
            """
        ),
        last=_words(
            """
            Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński,
            Szymański, Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Popescu, Ionescu, Novak,
            Horvat, Kovač, Shevchenko, Bondarenko, Petrov
            """
        ),
    ),
    "indian": NamePool(
        first=_words(
            """
            Aarav, Priya, Vivaan, Ananya, Arjun, Diya, Rohan, Isha, Aditya, Kavya, Rahul, Neha,
            Vikram, Pooja, Sanjay, Meera, Karthik, Lakshmi, Nikhil, Shreya, Amit, Divya, Ravi,
            Anjali
            """
        ),
        last=_words(
            """
            Sharma, Patel, Gupta, Singh, Kumar, Reddy, Iyer, Nair, Rao, Mehta, Shah, Desai,
            Joshi, Menon, Bhat, Chopra, Malhotra, Kapoor, Verma, Agarwal, Pillai, Banerjee,
            Mukherjee, Chatterjee
            """
        ),
    ),
    "chinese": NamePool(
        first=_words(
            """
            Wei, Mei, Jun, Hao, Xin, Yu, Lin, Jia, Jian, Xiaoling, Yan, Qiang, Ying, Ming, Hui,
            Lei
            """
        ),
        last=_words(
            """
            Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Lin, Ma, Guo, He
            """
        ),
    ),
    "japanese": NamePool(
        first=_words(
            """
            Hiroshi, Yuki, Haruto, Sakura, Kenji, Aiko, Takumi, Emi, Daiki, Yui, Sota, Naomi
            """
        ),
        last=_words(
            """
            Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Nakamura, Kobayashi, Yamamoto, Kato,
            Yoshida, Yamada
            """
        ),
    ),
    "korean": NamePool(
        first=_words(
            """
            Min-jun, Seo-yeon, Ji-woo, Ha-eun, Do-yun, Soo-ah, Ji-ho, Ye-jin, Hyun-woo, Eun-ji
            """
        ),
        last=_words(
            """
            Kim, Lee, Park, Choi, Jung, Kang, Cho, Yoon, Jang, Lim
            """
        ),
    ),
    "african_middle_eastern": NamePool(
        first=_words(
            """
            Amara, Kwame, Chidi, Ngozi, Tunde, Zainab, Kofi, Ama, Yusuf, Fatima, Omar, Aisha,
            Karim, Leila, Hassan, Nadia, Tariq, Samira, Ibrahim, Mariam, Thabo, Nomvula, Sipho,
            Lerato, Emre, Elif
            """
        ),
        last=_words(
            """
            Okafor, Adeyemi, Mensah, Okonkwo, Nwosu, Boateng, Owusu, Abdi, Mohamed, Haddad,
            Khalil, Mansour, Rahman, Hussain, Farouk, Nasser, Dlamini, Nkosi, Mokoena, Diallo,
            Traoré, Kamara, Y\u0131lmaz, Demir, Kaya, Şahin, Çelik, Öztürk
            """
        ),
    ),
}

# Letters that Unicode decomposition does not reduce to ASCII, for building email addresses.
TRANSLITERATE = str.maketrans({
    "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "\u0131": "i", "đ": "d", "œ": "oe", "þ": "th",
})

# A world-wide mix, used for the share of staff who are not from the local pool.
GLOBAL_ORIGINS: dict[str, float] = {
    "anglo": 30, "hispanic": 10, "indian": 12, "chinese": 6, "japanese": 2, "korean": 2,
    "african_middle_eastern": 8, "german": 5, "french": 5, "slavic": 6, "italian": 4,
    "portuguese": 4, "dutch": 3, "nordic": 3,
}

# ---------------------------------------------------------------------------------------------
# Geography: each country belongs to exactly one region, each region to one sales territory.


@dataclass(frozen=True)
class Country:
    """A country's share of the market and what its records look like."""

    code: str
    weight: float
    calling_code: str
    area_codes: tuple[str, ...]
    tlds: tuple[tuple[str, float], ...]
    origins: tuple[tuple[str, float], ...]
    legal_suffix: str


@dataclass(frozen=True)
class TerritoryPlan:
    """A sales territory: its team, region slug, countries and the reps who work it."""

    team: str
    name: str
    region: str
    countries: tuple[Country, ...]
    reps: tuple[str, ...]


def _c(code: str, weight: float, calling: str, tlds: dict[str, float], origins: dict[str, float],
       legal: str) -> Country:
    return Country(code, weight, calling, AREA_CODES.get(code, ()), tuple(tlds.items()),
                   tuple(origins.items()), legal)


# Big-city dialling codes, so phone numbers look local.
AREA_CODES: dict[str, tuple[str, ...]] = {
    "US": _words("212, 646, 415, 650, 312, 617, 206, 512, 303, 404, 305, 213, 702, 919, 503, 612"),
    "CA": ("416", "647", "604", "514", "403", "613"), "GB": ("20", "161", "121", "131", "113"),
    "IE": ("1", "21", "91"), "DE": ("30", "89", "40", "69", "221"), "FR": ("1", "4", "5"),
    "NL": ("20", "10", "30"), "ES": ("91", "93"), "IT": ("2", "6"), "CH": ("44", "22"),
    "SE": ("8", "31"), "PL": ("22", "12"), "BE": ("2", "3"), "DK": ("33", "70"),
    "AT": ("1", "662"), "NO": ("22", "55"), "FI": ("9",), "BR": ("11", "21", "31"),
    "MX": ("55", "33", "81"), "AR": ("11",), "CL": ("2",), "CO": ("1", "4"),
}

# (code, market weight, calling code, {tld: weight}, {name origin: weight}, legal suffix)
TERRITORIES: tuple[TerritoryPlan, ...] = (
    TerritoryPlan("americas", "North America", "north-america", (
        _c("US", 38, "+1", {".com": 80, ".io": 10, ".co": 5, ".ai": 5},
           {"anglo": 55, "hispanic": 14, "indian": 10, "chinese": 5, "korean": 2, "japanese": 2,
            "african_middle_eastern": 6, "slavic": 3, "italian": 3}, "Inc."),
        _c("CA", 6, "+1", {".ca": 50, ".com": 45, ".io": 5},
           {"anglo": 55, "french": 15, "indian": 10, "chinese": 8, "korean": 2,
            "african_middle_eastern": 5, "slavic": 5}, "Inc."),
    ), ("rep1", "rep2")),
    TerritoryPlan("americas", "LATAM", "latam", (
        _c("BR", 4, "+55", {".com.br": 70, ".com": 30},
           {"portuguese": 85, "italian": 5, "german": 5, "japanese": 5}, "Ltda."),
        _c("MX", 3, "+52", {".com.mx": 60, ".com": 40},
           {"hispanic": 95, "anglo": 5}, "S.A. de C.V."),
        _c("AR", 1.5, "+54", {".com.ar": 60, ".com": 40},
           {"hispanic": 80, "italian": 20}, "S.A."),
        _c("CL", 1, "+56", {".cl": 60, ".com": 40},
           {"hispanic": 95, "german": 5}, "SpA"),
        _c("CO", 1, "+57", {".com.co": 50, ".co": 20, ".com": 30},
           {"hispanic": 100}, "S.A.S."),
    ), ("rep3",)),
    TerritoryPlan("emea", "UK & Ireland", "uk-ireland", (
        _c("GB", 11, "+44", {".co.uk": 55, ".com": 35, ".io": 10},
           {"anglo": 70, "indian": 12, "african_middle_eastern": 7, "slavic": 5, "chinese": 6},
           "Ltd"),
        _c("IE", 2, "+353", {".ie": 60, ".com": 40},
           {"anglo": 85, "slavic": 10, "indian": 5}, "Ltd"),
    ), ("rep4",)),
    TerritoryPlan("emea", "Continental Europe", "europe", (
        _c("DE", 8, "+49", {".de": 70, ".com": 25, ".io": 5},
           {"german": 80, "african_middle_eastern": 8, "slavic": 7, "italian": 5}, "GmbH"),
        _c("FR", 6, "+33", {".fr": 65, ".com": 30, ".io": 5},
           {"french": 82, "african_middle_eastern": 12, "hispanic": 6}, "SAS"),
        _c("NL", 4, "+31", {".nl": 65, ".com": 30, ".io": 5},
           {"dutch": 85, "african_middle_eastern": 8, "german": 7}, "B.V."),
        _c("ES", 3, "+34", {".es": 65, ".com": 35},
           {"hispanic": 95, "french": 5}, "S.L."),
        _c("IT", 3, "+39", {".it": 70, ".com": 30},
           {"italian": 95, "slavic": 5}, "S.r.l."),
        _c("CH", 2, "+41", {".ch": 70, ".com": 30},
           {"german": 55, "french": 25, "italian": 20}, "AG"),
        _c("SE", 2, "+46", {".se": 65, ".com": 35},
           {"nordic": 90, "african_middle_eastern": 10}, "AB"),
        _c("PL", 2, "+48", {".pl": 70, ".com": 30},
           {"slavic": 100}, "sp. z o.o."),
        _c("BE", 1.5, "+32", {".be": 65, ".com": 35},
           {"dutch": 55, "french": 45}, "NV"),
        _c("DK", 1.5, "+45", {".dk": 70, ".com": 30},
           {"nordic": 100}, "A/S"),
        _c("AT", 1, "+43", {".at": 70, ".com": 30},
           {"german": 90, "slavic": 10}, "GmbH"),
        _c("NO", 1, "+47", {".no": 70, ".com": 30},
           {"nordic": 100}, "AS"),
        _c("FI", 1, "+358", {".fi": 70, ".com": 30},
           {"nordic": 100}, "Oy"),
    ), ("rep5", "rep6")),
)


# ---------------------------------------------------------------------------------------------
# The demo organisation: who logs in, with which role and team.


@dataclass(frozen=True)
class DemoUser:
    """A login the demo creates."""

    username: str
    role: str
    team: str | None
    first_name: str
    last_name: str
    sees: str


DEMO_TEAMS: dict[str, tuple[str, str]] = {
    # key: (team name, kind)
    "marketing": ("Marketing", "marketing"),
    "americas": ("Sales — Americas", "sales"),
    "emea": ("Sales — EMEA", "sales"),
}

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "admin", None, "Alex", "Morgan", "everything + Django admin"),
    DemoUser("marketing", "marketing", "marketing", "Maya", "Chen", "every record"),
    DemoUser("manager", "sales_manager", "americas", "Daniel", "Okafor", "both sales teams"),
    DemoUser("rep1", "sales_rep", "americas", "Riley", "Thompson", "own + team's unassigned"),
    DemoUser("rep2", "sales_rep", "americas", "Jordan", "Ramírez", "own + team's unassigned"),
    DemoUser("rep3", "sales_rep", "americas", "Camila", "Souza", "own + team's unassigned"),
    DemoUser("rep4", "sales_rep", "emea", "Oliver", "Byrne", "own + team's unassigned"),
    DemoUser("rep5", "sales_rep", "emea", "Lena", "Hoffmann", "own + team's unassigned"),
    DemoUser("rep6", "sales_rep", "emea", "Antoine", "Mercier", "own + team's unassigned"),
)

# ---------------------------------------------------------------------------------------------
# Companies: "<Compound> <industry word>", e.g. Northwind Analytics, Bluepeak Logistics.

NAME_HEADS: tuple[str, ...] = _words(
    """
    North, Blue, Silver, Iron, Bright, Clear, Red, Stone, Summit, Cedar, Pine, Oak, Maple,
    River, Lake, Sun, Star, Cloud, Wind, Storm, Frost, Gold, Green, Black, White, Swift, True,
    High, Deep, Far, Wild, Open, First, Next, Nova, Alpine, Harbor, Granite, Copper, Amber,
    Coral, Falcon, Eagle, Fox, Wolf, Bear, Lion, Orbit, Vector, Quantum, Lumen, Terra, Aqua,
    Vertex, Apex, Zen, Echo, Atlas, Polar, Crest, Sage, Birch, Willow, Ember, Hawk, Raven,
    Prime, Core, Bold, Keen, Silk, Sky, Moss
    """
)
NAME_TAILS: tuple[str, ...] = _words(
    """
    wind, peak, field, bridge, stone, gate, wave, line, point, forge, works, view, path, port,
    stack, leaf, light, ridge, water, wood, crest, brook, haven, rock, spring, mark, shore,
    star, fire, base, hub, loop, craft, mint, beam, grid, wise, scale, dale, vale, sight, flow,
    ware
    """
)


@dataclass(frozen=True)
class Industry:
    """An industry: how common it is, words for company names, revenue per employee (USD)."""

    name: str
    weight: float
    revenue_per_employee: int
    words: tuple[str, ...]


INDUSTRIES: tuple[Industry, ...] = (
    Industry("Software", 18, 220_000,
             _words("Software, Systems, Labs, Technologies, Cloud, Data, Analytics, Digital")),
    Industry("IT Services", 8, 150_000, _words("Consulting, Solutions, IT, Networks, Partners")),
    Industry("Financial Services", 8, 350_000,
             _words("Capital, Financial, Advisors, Payments, Insurance")),
    Industry("Healthcare", 7, 120_000, _words("Health, Medical, Care, Clinics")),
    Industry("Biotech & Pharma", 4, 400_000, _words("Bio, Therapeutics, Pharma, Biosciences")),
    Industry("Manufacturing", 10, 250_000,
             _words("Manufacturing, Industries, Engineering, Components, Machines")),
    Industry("Logistics", 6, 200_000, _words("Logistics, Freight, Shipping, Transport")),
    Industry("Retail & E-commerce", 8, 180_000,
             _words("Retail, Goods, Outfitters, Market, Stores")),
    Industry("Marketing & Advertising", 6, 130_000,
             _words("Media, Creative, Marketing, Studio, Agency")),
    Industry("Education", 4, 90_000, _words("Learning, Academy, Education")),
    Industry("Energy", 4, 500_000, _words("Energy, Power, Solar, Renewables")),
    Industry("Real Estate", 3, 300_000, _words("Properties, Realty, Estates")),
    Industry("Telecommunications", 3, 380_000, _words("Telecom, Communications, Connect, Mobile")),
    Industry("Hospitality & Travel", 4, 80_000, _words("Hotels, Travel, Hospitality, Resorts")),
    Industry("Professional Services", 5, 160_000, _words("Group, Associates, Advisory, Partners")),
    Industry("Food & Beverage", 4, 150_000, _words("Foods, Kitchen, Beverages, Farms, Brewing")),
    Industry("Construction", 3, 200_000, _words("Construction, Builders, Build")),
    Industry("Media & Entertainment", 3, 250_000,
             _words("Entertainment, Studios, Games, Pictures")),
)

# Personal mailbox domains: a few contacts sign up with them and have no company.
PERSONAL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 60), ("outlook.com", 15), ("yahoo.com", 10), ("icloud.com", 8), ("proton.me", 4),
    ("gmx.de", 3),
)

# ---------------------------------------------------------------------------------------------
# Job titles by department and seniority.

SENIORITIES: tuple[tuple[str, float], ...] = (
    ("c_level", 6), ("vp", 9), ("director", 20), ("manager", 32), ("individual", 33),
)

DEPARTMENTS: tuple[tuple[str, float], ...] = (
    ("marketing", 30), ("sales", 20), ("operations", 12), ("it", 12), ("finance", 8),
    ("executive", 8), ("customer_success", 5), ("product", 5),
)

TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "marketing": {
        "c_level": _words("Chief Marketing Officer, CMO"),
        "vp": _words("VP Marketing, VP of Demand Generation, VP Growth"),
        "director": _words(
            "Marketing Director, Director of Demand Generation, Director of "
            "Product Marketing, Head of Marketing, Head of Growth"
        ),
        "manager": _words(
            "Marketing Manager, Marketing Operations Manager, Content Marketing "
            "Manager, Demand             Generation Manager, Digital Marketing "
            "Manager, Brand Manager"
        ),
        "individual": _words(
            "Marketing Specialist, Marketing Coordinator, SEO Specialist, "
            "Content Writer, Marketing Analyst, Growth Marketer"
        ),
    },
    "sales": {
        "c_level": _words("Chief Revenue Officer, CRO"),
        "vp": _words("VP Sales, VP Revenue Operations"),
        "director": _words(
            "Sales Director, Head of Sales, Director of Revenue Operations, Head "
            "of Sales             Development"
        ),
        "manager": _words("Sales Manager, Sales Operations Manager, SDR Manager, Account Manager"),
        "individual": _words(
            "Account Executive, Sales Development Representative, Business "
            "Development             Representative, Sales Operations Analyst"
        ),
    },
    "operations": {
        "c_level": _words("Chief Operating Officer, COO"),
        "vp": _words("VP Operations"),
        "director": _words("Head of Operations, Director of Operations"),
        "manager": _words("Operations Manager, Business Operations Manager"),
        "individual": _words("Operations Analyst, Operations Coordinator"),
    },
    "it": {
        "c_level": _words("Chief Information Officer, Chief Technology Officer, CTO"),
        "vp": _words("VP Engineering, VP IT"),
        "director": _words("IT Director, Head of IT, Director of Engineering"),
        "manager": _words("IT Manager, Engineering Manager, Systems Manager"),
        "individual": _words(
            "Systems Administrator, Software Engineer, Data Engineer, Solutions "
            "Architect"
        ),
    },
    "finance": {
        "c_level": _words("Chief Financial Officer, CFO"),
        "vp": _words("VP Finance"),
        "director": _words("Finance Director, Head of Finance, Financial Controller"),
        "manager": _words("Finance Manager, Procurement Manager"),
        "individual": _words("Financial Analyst, Accountant, Procurement Specialist"),
    },
    "executive": {
        "c_level": _words("CEO, Founder & CEO, Co-founder, Managing Director, President"),
        "vp": _words("General Manager, VP Strategy"),
        "director": _words("Director of Strategy, Chief of Staff"),
        "manager": _words("Business Manager"),
        "individual": _words("Executive Assistant, Office Manager"),
    },
    "customer_success": {
        "c_level": _words("Chief Customer Officer"),
        "vp": _words("VP Customer Success"),
        "director": _words("Head of Customer Success, Director of Customer Experience"),
        "manager": _words("Customer Success Manager, Support Manager"),
        "individual": _words("Customer Success Specialist, Support Specialist"),
    },
    "product": {
        "c_level": _words("Chief Product Officer"),
        "vp": _words("VP Product"),
        "director": _words("Head of Product, Director of Product"),
        "manager": _words("Product Manager, Senior Product Manager"),
        "individual": _words("Product Analyst, UX Designer, Product Designer"),
    },
}

# ---------------------------------------------------------------------------------------------
# Where contacts come from, and what that says about them.


@dataclass(frozen=True)
class SourcePlan:
    """An original source: its share, how often it brings a newsletter subscriber rather than
    a lead, how well its leads qualify (before normalising), and example details."""

    source: str
    weight: float
    subscriber_share: float
    quality: float
    details: tuple[str, ...]


SOURCES: tuple[SourcePlan, ...] = (
    SourcePlan("organic_search", 24, 0.35, 1, _words("google, bing, duckduckgo")),
    SourcePlan("paid_search", 14, 0.10, 1.15, _words(
        "google / brand, google / competitor terms, google / revenue analytics, bing / brand")),
    SourcePlan("email", 8, 0.60, 0.9,
               _words("newsletter, forwarded newsletter, partner newsletter")),
    SourcePlan("organic_social", 7, 0.50, 0.7, _words("linkedin, x, youtube")),
    SourcePlan("paid_social", 6, 0.30, 0.6,
               _words("linkedin / lead gen form, linkedin / retargeting, facebook / lookalike")),
    SourcePlan("referral", 9, 0.05, 1.6,
               _words("customer referral, partner referral, g2.com, capterra.com")),
    SourcePlan("events", 10, 0.05, 1.3, _words(
        "Revenue Summit {year}, Webinar: Pipeline Analytics 101, SaaS Growth Conference {year}, "
        "Marketing Ops Meetup, Webinar: Sales and Marketing Alignment")),
    SourcePlan("outbound", 12, 0.00, 1.2,
               _words("cold email sequence, cold call, linkedin outreach")),
    SourcePlan("direct", 10, 0.40, 1, ()),  # no detail: nobody knows where direct visits come from
)

SUBSCRIPTION_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    # Subscribers joined the newsletter, so most of them are still subscribed.
    "subscriber": (("subscribed", 86), ("unsubscribed", 10), ("bounced", 3), ("complained", 1)),
    "inbound": (("subscribed", 55), ("not_subscribed", 30), ("unsubscribed", 11), ("bounced", 3),
                ("complained", 1)),
    "outbound": (("not_subscribed", 88), ("unsubscribed", 8), ("bounced", 4)),
}

# ---------------------------------------------------------------------------------------------
# Lifecycle reasons.

DISQUALIFY_REASONS: dict[str, tuple[str, ...]] = {
    # Marketing weeds these out before they reach sales.
    "lead": _words("student or job seeker, competitor, fake or spam sign-up, outside our market, "
                   "duplicate record"),
    "mql": ("no budget", "no need", "not the decision maker", "bad timing", "company too small"),
    "sql": ("no budget", "no need", "bad timing", "went silent", "requirements not met"),
    "opportunity": _words("lost: chose a competitor, lost: no decision, lost: price, "
                          "lost: missing features"),
}

# ---------------------------------------------------------------------------------------------
# Activity text.

PRODUCTS: tuple[str, ...] = ("Tandem Growth", "Tandem Pro", "Tandem Enterprise")

CALL_ATTEMPT_NOTES: tuple[str, ...] = (
    "No answer, will try again tomorrow.",
    "Left a voicemail about their recent {source_phrase}.",
    "Reception could not put me through; asked for a better time.",
    "Line busy.",
)
QUALIFICATION_NOTES: tuple[str, ...] = (
    "Qualification call: {company} is reviewing how marketing hands leads to sales. Budget "
    "planned for next quarter.",
    "Spoke with {first_name}: current CRM is a spreadsheet plus a newsletter tool. Wants one "
    "funnel view for the leadership team.",
    "{first_name} leads a team of {team_size}. Pain: no idea which campaigns create pipeline.",
    "Good call. {company} missed its pipeline target last quarter and wants better lead scoring.",
    "Confirmed need, timeline and budget owner ({title}). Booked a discovery meeting.",
)
MEETING_SUBJECTS: dict[str, tuple[str, ...]] = {
    "sql": (
        "Discovery call with {company}",
        "Intro meeting: {company}",
        "Needs analysis with {first_name}",
    ),
    "opportunity": (
        "Product demo for {company}",
        "Technical deep-dive with {company} IT",
        "Pricing review with {first_name}",
        "Stakeholder review at {company}",
    ),
    "customer": (
        "Kick-off: {company} onboarding",
        "Quarterly business review with {company}",
        "Success plan check-in with {first_name}",
    ),
}
MEETING_NOTES: tuple[str, ...] = (
    "Walked through the funnel dashboard and lead routing. {first_name} asked about importing "
    "their existing contacts.",
    "Attendees: {first_name} ({title}) and two colleagues. Main concerns: data migration and "
    "training time.",
    "Strong interest in attribution reporting. Next step: share a proposal for {product}.",
    "Reviewed security questions; IT wants SSO and a data processing agreement.",
    "Agreed success criteria for a 30-day pilot.",
)
NOTE_TEXTS: dict[str, tuple[str, ...]] = {
    "sql": (
        "Sent the case study for {industry}.",
        "{company} uses a competitor today; renewal in {months} months.",
        "Champion identified: {first_name}. Economic buyer is the CFO.",
    ),
    "opportunity": (
        "Proposal sent for {product}, {seats} seats.",
        "Legal review started at {company}.",
        "Procurement asked for a 10% discount; holding firm for now.",
        "Security questionnaire returned.",
    ),
    "customer": (
        "Closed won: {product}, {seats} seats. Handover to onboarding.",
        "Onboarding going well; first campaign live.",
        "{first_name} agreed to be a reference customer.",
    ),
}
TASK_SUBJECTS: dict[str, tuple[str, ...]] = {
    "mql": ("Call {first_name} back", "Research {company} before first call"),
    "sql": (
        "Send meeting recap to {first_name}",
        "Book discovery call with {company}",
        "Share case study with {first_name}",
    ),
    "opportunity": (
        "Send proposal to {company}",
        "Follow up on proposal with {first_name}",
        "Prepare demo for {company}",
        "Chase signature at {company}",
    ),
    "customer": ("Schedule onboarding for {company}", "Check in with {first_name} after go-live"),
}
EMAIL_SUBJECTS: tuple[str, ...] = (
    "Following up on our call",
    "Resources we discussed",
    "Next steps for {company}",
    "Proposal for {company}",
    "Quick question, {first_name}",
)

# ---------------------------------------------------------------------------------------------
# Marketing: the demo company's sites, the channel model, personas, campaigns, content, forms.

SITE = "https://www.tandem-demo.example"  # the demo company's marketing site (a reserved TLD)
DOCS_SITE = "https://docs.tandem-demo.example"


@dataclass(frozen=True)
class ChannelPlan:
    """One channel of the journey model (docs/demo.md, "The channel model").

    reach: the channel's weight among a contact's sampled touches; anonymous: its weight among
    the touches of visitors who never sign up; cost_per_touch: USD one campaign touch costs;
    effect: how strongly one touch pulls a person toward buying (the truth attribution is
    checked against); kind: what a touch usually is; untagged: share of touches that carry no
    campaign; known_only: only a known contact can be touched (we need their address); web: a
    touch is a visit to our site; referrers: where its visits come from.
    """

    reach: float
    anonymous: float
    cost_per_touch: float
    effect: float
    kind: str
    untagged: float = 0.0
    known_only: bool = False
    web: bool = True
    referrers: tuple[tuple[str, float], ...] = ()


# Strongest effect first. Weak channels bring many visitors who never sign up.
CHANNELS: dict[str, ChannelPlan] = {
    "referral": ChannelPlan(5, 2, 2.00, 3.0, "visit", untagged=0.6, referrers=(
        ("https://www.g2.com/", 35), ("https://www.capterra.com/", 20),
        ("https://blog.revopscollective.example/", 15), ("https://news.ycombinator.com/", 5),
        ("https://www.linkedin.com/", 25))),
    "events": ChannelPlan(9, 0, 150.00, 2.8, "event", web=False),
    "webinar": ChannelPlan(8, 2, 12.00, 2.6, "event"),
    "paid_search": ChannelPlan(12, 5, 6.50, 2.2, "visit",
                               referrers=(("https://www.google.com/", 1),)),
    "partner": ChannelPlan(3, 2, 5.00, 1.6, "visit", referrers=(
        ("https://www.hubsync.example/", 70), ("https://partners.hubsync.example/", 30))),
    "direct_mail": ChannelPlan(2, 0, 45.00, 1.4, "visit", known_only=True),
    "outbound": ChannelPlan(4, 0, 12.00, 1.2, "other", known_only=True, web=False),
    "organic_search": ChannelPlan(8, 20, 0.40, 1.0, "visit", untagged=0.7, referrers=(
        ("https://www.google.com/", 80), ("https://www.bing.com/", 12),
        ("https://duckduckgo.com/", 8))),
    "content": ChannelPlan(7, 8, 4.00, 0.9, "content_view", referrers=(
        ("https://www.b2bcontenthub.example/", 60), ("https://medium.com/", 40))),
    "email": ChannelPlan(10, 0, 0.60, 0.7, "click", known_only=True),
    "paid_social": ChannelPlan(7, 12, 9.00, 0.5, "visit",
                               referrers=(("https://www.linkedin.com/", 1),)),
    "organic_social": ChannelPlan(9, 24, 0.30, 0.15, "visit", untagged=0.5, referrers=(
        ("https://www.linkedin.com/", 60), ("https://t.co/", 20), ("https://www.youtube.com/", 20))),
    "display": ChannelPlan(8, 30, 1.20, 0.1, "visit", referrers=(
        ("https://googleads.g.doubleclick.net/", 60), ("https://www.businessinsider.example/", 20),
        ("https://www.techweekly.example/", 20))),
}

# Search terms and ad variants that paid touches carry in utm_term / utm_content.
SEARCH_TERMS: tuple[str, ...] = _words(
    "tandem crm, tandem revenue platform, revenue analytics software, marketing attribution "
    "tool, lead scoring software, sales and marketing alignment, funnel reporting, crm for "
    "b2b saas, hubspot alternative, mql to sql conversion")
AD_VARIANTS: tuple[str, ...] = ("carousel_a", "carousel_b", "single_image", "video_15s",
                                "document_ad")


@dataclass(frozen=True)
class PersonaPlan:
    """A persona and its fit criteria (marketing.personas fields and operators)."""

    key: str
    name: str
    description: str
    pains: str
    goals: str
    objections: str
    criteria: tuple[tuple[str, str, object], ...]


B2B_INDUSTRIES = ("Software", "IT Services", "Marketing & Advertising", "Financial Services",
                  "Professional Services", "Telecommunications", "Media & Entertainment")

# Checked in this order: a contact gets the first persona it fits.
PERSONAS: tuple[PersonaPlan, ...] = (
    PersonaPlan(
        "revops", "RevOps Riley",
        "Runs revenue, sales or marketing operations at a company of 50+ people; owns the CRM, "
        "the routing rules and the funnel report.",
        "Stitches spreadsheets from four tools every Monday. Lead routing breaks whenever a "
        "territory changes. Nobody agrees on what counts as an MQL.",
        "One funnel definition both teams trust; routing and SLAs that run themselves; a "
        "weekly report that takes minutes, not a day.",
        "Migration risk and data quality; another tool to maintain; will it integrate with "
        "the billing system?",
        (("contact.title", "contains", "Operations"), ("company.employees", "gte", 50)),
    ),
    PersonaPlan(
        "demand_gen", "Demand Gen Dana",
        "Leads marketing or demand generation at a B2B company of 20 to 2,000 people; measured "
        "on pipeline, not clicks.",
        "Cannot prove which campaigns create pipeline; sales ignores half the leads; budget "
        "cuts land on channels nobody can defend.",
        "Attribution the CFO accepts; faster lead follow-up; more budget for what works.",
        "Attribution models feel like black boxes; worried the sales team will not log their "
        "work; has been burnt by a long implementation before.",
        (("contact.title", "contains", "Marketing"), ("company.employees", "gte", 20),
         ("company.employees", "lte", 2000), ("company.industry", "in", list(B2B_INDUSTRIES))),
    ),
    PersonaPlan(
        "sales_leader", "Sales Leader Sam",
        "Leads or works in a sales team of a company with 20+ people; lives in the pipeline "
        "review.",
        "Reps chase leads that were never qualified; forecasts are gut feel; marketing's "
        "numbers never match the CRM.",
        "Qualified leads routed in minutes; a forecast built on stage history; one view of the "
        "account for the whole team.",
        "Reps hate data entry; switching CRMs mid-year is risky; wants proof from a company of "
        "similar size.",
        (("contact.title", "contains", "Sales"), ("company.employees", "gte", 20)),
    ),
    PersonaPlan(
        "founder", "Founder Fiona",
        "Founder or one of the first hires at a B2B company under 50 people, wearing every hat "
        "and signing off every tool; often still sells herself.",
        "Growth stalled after the founder-led sales phase; no time to build reporting; tools "
        "sprawl with every new hire.",
        "A repeatable funnel the first sales hire can run; clear numbers for the next "
        "funding round.",
        "Price and the time to set up; does not want an enterprise tool; needs value in weeks.",
        (("company.employees", "lte", 50), ("company.industry", "in", list(B2B_INDUSTRIES))),
    ),
    PersonaPlan(
        "finance", "Finance Approver Frank",
        "Finance leader at a company of 100+ people who approves software spend and asks for "
        "payback.",
        "Marketing spend grows while cost per customer is unknown; renewals surprise him; "
        "too many overlapping subscriptions.",
        "Customer acquisition cost by channel; one contract instead of three; predictable "
        "pricing.",
        "Total cost of ownership; security review and data processing agreement; lock-in.",
        (("contact.title", "contains", "Finance"), ("company.employees", "gte", 100)),
    ),
    PersonaPlan(
        "it_evaluator", "Technical Evaluator Eve",
        "Engineer or engineering leader at a company of 200+ people who evaluates security, "
        "integration and hosting.",
        "Shadow IT from marketing tools; tracking scripts of unknown origin; data spread "
        "across vendors and regions.",
        "Self-hosted, auditable software; an API and webhooks; SSO and clear data flows.",
        "Maintenance burden of self-hosting; scale limits; who supports it at 3 a.m.",
        (("contact.title", "contains", "Engineer"), ("company.employees", "gte", 200)),
    ),
)


@dataclass(frozen=True)
class CampaignPlan:
    """A campaign of the demo calendar.

    start/end are days after the demo's start (or after now, when `from_now`); end None means
    always on. The name may use {year}, {quarter}, {season} and {topic}, filled from the start
    (a webinar's from its live date). `live`: (days after the start, how many days) when the
    campaign happens (an event, a live webinar), so touches of its channel gather there.
    `cost`: "import:<platform>" for
    ad-spend imports, "monthly" for typed-in monthly invoices, "lump" for typed-in event or
    print costs.
    """

    name: str
    channel: str
    stage: str
    start: float
    end: float | None
    source: str
    medium: str
    personas: tuple[str, ...]
    objective: str
    cost: str
    weight: float = 1.0
    from_now: bool = False
    live: tuple[int, int] | None = None
    paused_days_ago: int = 0


_ALL = ("revops", "demand_gen", "sales_leader", "founder", "finance", "it_evaluator")
_MKT = ("revops", "demand_gen")
_LEADERS = ("revops", "sales_leader", "founder")

CAMPAIGNS: tuple[CampaignPlan, ...] = (
    # Paid search: always-on brand and non-brand, imported from the ad platforms.
    CampaignPlan("Google Ads — Brand", "paid_search", "decision", 0, None, "google", "cpc", _ALL,
                 "Capture people who search for Tandem by name.", "import:google_ads", 3),
    CampaignPlan("Google Ads — Competitor terms", "paid_search", "consideration", 60, None,
                 "google", "cpc", _MKT, "Reach buyers comparing revenue tools.",
                 "import:google_ads"),
    CampaignPlan("Google Ads — Revenue analytics (non-brand)", "paid_search", "consideration", 0,
                 300, "google", "cpc", _MKT, "Generate leads from category searches.",
                 "import:google_ads"),
    CampaignPlan("Google Ads — Funnel reporting (non-brand)", "paid_search", "consideration", 300,
                 None, "google", "cpc", _MKT, "Generate leads from category searches.",
                 "import:google_ads"),
    CampaignPlan("Microsoft Ads — Brand", "paid_search", "decision", 120, None, "bing", "cpc",
                 _ALL, "Brand searches on Bing.", "import:csv", 0.4),
    # Paid social.
    CampaignPlan("LinkedIn Ads — Funnel Playbook lead gen", "paid_social", "consideration", 30,
                 210, "linkedin", "paid_social", _MKT, "Ebook downloads from marketing leaders.",
                 "import:linkedin"),
    CampaignPlan("LinkedIn Ads — Website retargeting", "paid_social", "decision", 0, None,
                 "linkedin", "paid_social", _ALL, "Bring back visitors of the pricing page.",
                 "import:linkedin"),
    CampaignPlan("LinkedIn Ads — Webinar promotion", "paid_social", "awareness", 240, None,
                 "linkedin", "paid_social", _LEADERS, "Registrations for the quarterly webinars.",
                 "import:linkedin"),
    CampaignPlan("Meta — Lookalike audience test", "paid_social", "awareness", -70, 30,
                 "facebook", "paid_social", ("founder",), "Test lookalikes of our customers.",
                 "import:meta", 1.5, from_now=True, paused_days_ago=21),
    # Display.
    CampaignPlan("Display — Retargeting (Google Display Network)", "display", "consideration", 0,
                 None, "google", "display", _ALL, "Stay visible to recent visitors.",
                 "import:google_ads"),
    CampaignPlan("Programmatic awareness burst — {season} {year}", "display", "awareness", 150, 192,
                 "programmatic", "display", _ALL, "Reach new accounts in our industries.",
                 "import:csv", 3),
    CampaignPlan("Programmatic awareness burst — {season} {year}", "display", "awareness", 420, 462,
                 "programmatic", "display", _ALL, "Reach new accounts in our industries.",
                 "import:csv", 3),
    # Organic search: content the team writes; most search visits carry no campaign at all.
    CampaignPlan("SEO — Revenue analytics pillar pages", "organic_search", "awareness", 0, None,
                 "google", "organic", _MKT, "Rank for revenue analytics topics.", "monthly"),
    CampaignPlan("SEO — Comparison pages refresh", "organic_search", "consideration", 200, 320,
                 "google", "organic", _MKT, "Win comparison searches.", "monthly", 2),
    # Organic social.
    CampaignPlan("LinkedIn company page — weekly posts", "organic_social", "awareness", 0, None,
                 "linkedin", "social", _ALL, "Keep the brand in front of the market.", "monthly"),
    CampaignPlan("Customer stories video series", "organic_social", "consideration", 150, 330,
                 "youtube", "social", _ALL, "Proof from customers, in their words.", "monthly"),
    CampaignPlan("Founder-led LinkedIn posts", "organic_social", "awareness", 330, None,
                 "linkedin", "social", _LEADERS, "Build an audience around the founders.",
                 "monthly"),
    # Email.
    CampaignPlan("Monthly newsletter", "email", "awareness", 0, None, "newsletter", "email", _ALL,
                 "Nurture subscribers with one useful read a month.", "monthly"),
    CampaignPlan("Nurture — new lead welcome series", "email", "consideration", 0, None,
                 "nurture", "email", _ALL, "Move new leads to a first conversation.", "monthly"),
    CampaignPlan("Product launch — Tandem Pro 2.0", "email", "decision", 260, 281, "newsletter",
                 "email", _ALL, "Announce Tandem Pro 2.0 to the whole list.", "monthly", 3),
    CampaignPlan("Re-engagement — Still interested?", "email", "consideration", 420, 448,
                 "nurture", "email", _ALL, "Wake up leads gone quiet for 90 days.", "monthly", 2),
    CampaignPlan("Customer newsletter", "email", "decision", 90, None, "newsletter", "email",
                 _ALL, "Adoption tips and release notes for customers.", "monthly", 0.5),
    CampaignPlan("Product launch — Tandem Enterprise", "email", "decision", 30, 51, "newsletter",
                 "email", _ALL, "Announce the Enterprise edition.", "monthly", from_now=True),
    # Webinars: quarterly, promoted 4 weeks ahead, on demand for 3 months after.
    *(CampaignPlan("{quarter} Webinar: {topic}", "webinar", stage, day - 30, day + 90, "webinar",
                   "webinar", personas, "Registrations and attendance for the live session.",
                   "lump", live=(30, 1))
      for day, stage, personas in (
          (30, "awareness", _MKT), (120, "consideration", _LEADERS), (210, "consideration", _MKT),
          (300, "awareness", _ALL), (390, "consideration", _LEADERS), (480, "decision", _MKT))),
    CampaignPlan("{quarter} Webinar: {topic}", "webinar", "consideration", 12, 130, "webinar",
                 "webinar", _MKT, "Registrations and attendance for the live session.", "lump",
                 from_now=True, live=(28, 1)),
    # Events: a roundtable series that never stops, and conferences on fixed days.
    CampaignPlan("Executive roundtable dinners — {season} {year}", "events", "consideration", 0,
                 183, "event", "offline", _LEADERS, "Small dinners with revenue leaders.", "lump"),
    CampaignPlan("Executive roundtable dinners — {season} {year}", "events", "consideration", 183,
                 366, "event", "offline", _LEADERS, "Small dinners with revenue leaders.", "lump"),
    CampaignPlan("Executive roundtable dinners — {season} {year}", "events", "consideration", 366,
                 560, "event", "offline", _LEADERS, "Small dinners with revenue leaders.", "lump"),
    CampaignPlan("SaaStr Annual {year} booth", "events", "awareness", 100, 103, "saastr",
                 "offline", _ALL, "Booth scans and meetings at the biggest SaaS conference.",
                 "lump", 8, live=(0, 4)),
    CampaignPlan("Revenue Summit {year}", "events", "consideration", 175, 177, "revenue_summit",
                 "offline", _LEADERS, "Speaking slot and sponsored lunch.", "lump", 8, live=(0, 3)),
    CampaignPlan("SaaS Growth Conference {year}", "events", "awareness", 260, 262,
                 "saas_growth_conference", "offline", _MKT, "Booth at the growth marketers' show.",
                 "lump", 8, live=(0, 3)),
    CampaignPlan("Marketing Ops Meetup — London", "events", "awareness", 330, 330,
                 "mops_meetup", "offline", ("revops",), "Host the London meetup.", "lump", 8,
                 live=(0, 1)),
    CampaignPlan("Revenue Summit {year}", "events", "consideration", 540, 542, "revenue_summit",
                 "offline", _LEADERS, "Speaking slot and sponsored lunch.", "lump", 8, live=(0, 3)),
    CampaignPlan("SaaStr Annual {year} booth", "events", "awareness", 60, 63, "saastr", "offline",
                 _ALL, "Booth scans and meetings at the biggest SaaS conference.", "lump", 8,
                 from_now=True, live=(0, 4)),
    # Direct mail.
    CampaignPlan("Direct mail — executive gift boxes, wave 1", "direct_mail", "decision", 0, 280,
                 "direct_mail", "print", ("finance", "revops", "sales_leader"),
                 "Open doors at target accounts.", "lump"),
    CampaignPlan("Direct mail — executive gift boxes, wave 2", "direct_mail", "decision", 280,
                 None, "direct_mail", "print", ("finance", "revops", "sales_leader"),
                 "Open doors at target accounts.", "lump"),
    CampaignPlan("Direct mail — Funnel Playbook print edition", "direct_mail", "consideration",
                 380, 420, "direct_mail", "print", _MKT, "A printed playbook for warm leads.",
                 "lump", 3),
    # Content.
    CampaignPlan("Content syndication — The Revenue Funnel Playbook", "content", "consideration",
                 0, None, "b2bcontenthub", "content", _MKT, "Ebook leads through syndication.",
                 "monthly"),
    CampaignPlan("State of B2B Funnels Report {year}", "content", "awareness", 240, None, "blog",
                 "content", _ALL, "Original research that earns links and leads.", "monthly"),
    CampaignPlan("Guest articles and podcasts", "content", "awareness", 60, 400, "guest", "content",
                 _ALL, "Reach new audiences through other people's channels.", "monthly"),
    # Referral and partners.
    CampaignPlan("Customer referral programme", "referral", "decision", 0, None, "referral",
                 "referral", _ALL, "Customers introduce peers for a thank-you credit.", "monthly"),
    CampaignPlan("G2 review drive — {season} {year}", "referral", "consideration", 300, 345, "g2",
                 "referral", _ALL, "More reviews on G2 before the seasonal report.", "monthly", 2),
    CampaignPlan("HubSync integration co-marketing", "partner", "consideration", 0, None,
                 "hubsync", "partner", _MKT, "Joint content with our integration partner.",
                 "monthly"),
    CampaignPlan("Agency partner programme", "partner", "decision", 200, None, "agencies",
                 "partner", ("founder", "demand_gen"), "Agencies recommend Tandem to clients.",
                 "monthly"),
    # Outbound.
    CampaignPlan("Outbound — mid-market SDR sequences", "outbound", "consideration", 0, None,
                 "sales", "outbound", ("revops", "sales_leader"), "SDR prospecting, mid-market.",
                 "monthly"),
    CampaignPlan("Outbound — enterprise ABM wave 1", "outbound", "decision", 90, 270, "sales",
                 "outbound", ("finance", "it_evaluator", "revops"), "Account-based outreach.",
                 "monthly", 2),
    CampaignPlan("Outbound — enterprise ABM wave 2", "outbound", "decision", 330, None, "sales",
                 "outbound", ("finance", "it_evaluator", "revops"), "Account-based outreach.",
                 "monthly", 2),
)

WEBINAR_TOPICS: tuple[str, ...] = (
    "Pipeline analytics 101",
    "Sales and marketing alignment in practice",
    "Forecasting without spreadsheets",
    "Lead scoring that sales trusts",
    "Attribution without the hype",
    "From MQL to revenue: fixing the handoff",
    "Building a board-ready funnel report",
)


@dataclass(frozen=True)
class AssetPlan:
    """A content asset: title, type, journey stage, audience, personas, path on the site."""

    title: str
    type: str
    stage: str
    audience: str
    personas: tuple[str, ...]
    path: str
    description: str = ""


ASSETS: tuple[AssetPlan, ...] = (
    AssetPlan("The Revenue Funnel Playbook", "ebook", "consideration", "market", _MKT,
              "/resources/revenue-funnel-playbook", "40 pages on defining, measuring and fixing "
              "the funnel from first touch to closed won."),
    AssetPlan("State of B2B Funnels Report", "ebook", "awareness", "both", _ALL,
              "/resources/state-of-b2b-funnels", "Benchmarks from 600 B2B companies."),
    AssetPlan("What is a marketing qualified lead, really?", "blog_post", "awareness", "market",
              _MKT, "/blog/what-is-an-mql"),
    AssetPlan("Five funnel metrics your board will ask for", "blog_post", "awareness", "market",
              ("finance", "founder", "revops"), "/blog/five-funnel-metrics"),
    AssetPlan("Lead scoring: rules or predictive?", "blog_post", "consideration", "market", _MKT,
              "/blog/lead-scoring-rules-or-predictive"),
    AssetPlan("How to run a sales and marketing SLA", "blog_post", "consideration", "both",
              _LEADERS, "/blog/sales-marketing-sla"),
    AssetPlan("UTM tags without the chaos", "blog_post", "awareness", "market", ("demand_gen",),
              "/blog/utm-tags-without-chaos"),
    AssetPlan("Attribution models explained in plain words", "blog_post", "awareness", "market",
              _MKT, "/blog/attribution-models-explained"),
    AssetPlan("How a 200-person logistics firm doubled its pipeline", "case_study", "decision",
              "both", ("revops", "sales_leader"), "/customers/logistics-pipeline"),
    AssetPlan("A fintech scale-up cut lead response time to five minutes", "case_study",
              "decision", "both", ("sales_leader", "revops"), "/customers/fintech-speed-to-lead"),
    AssetPlan("How an agency network unified 14 CRMs", "case_study", "decision", "both",
              ("demand_gen", "it_evaluator"), "/customers/agency-network"),
    AssetPlan("Tandem product overview", "product_sheet", "consideration", "both", _ALL,
              "/resources/product-overview"),
    AssetPlan("Tandem attribution and analytics", "product_sheet", "consideration", "both", _MKT,
              "/resources/attribution-and-analytics"),
    AssetPlan("Security and data protection FAQ", "faq", "decision", "both",
              ("it_evaluator", "finance"), "/resources/security-faq"),
    AssetPlan("Tandem in three minutes", "video", "consideration", "market", _ALL,
              "/resources/tandem-in-three-minutes"),
    AssetPlan("Battlecard: Tandem vs. spreadsheets and point tools", "one_pager", "decision",
              "enablement", ("sales_leader", "revops"), "/enablement/battlecard-spreadsheets"),
    AssetPlan("Objection handling one-pager", "one_pager", "decision", "enablement", _ALL,
              "/enablement/objection-handling"),
    AssetPlan("Tandem pricing and packaging", "pricing_sheet", "decision", "both",
              ("finance", "founder"), "/resources/pricing-sheet"),
)


@dataclass(frozen=True)
class FormPlan:
    """A capture form on the website: its fields (targets), gate and whether it is a hand-raise."""

    key: str
    name: str
    slug: str
    headline: str
    submit_label: str
    path: str
    fields: tuple[str, ...]
    asset: str = ""
    hand_raise: bool = False


FORMS: tuple[FormPlan, ...] = (
    FormPlan("newsletter", "Newsletter sign-up", "newsletter", "One useful read a month",
             "Subscribe", "/newsletter", ("email", "first_name")),
    FormPlan("ebook", "Ebook: The Revenue Funnel Playbook", "revenue-funnel-playbook",
             "Get the Revenue Funnel Playbook", "Download", "/resources/revenue-funnel-playbook",
             ("email", "first_name", "last_name", "company_name", "title"),
             asset="The Revenue Funnel Playbook"),
    FormPlan("webinar", "Webinar registration", "webinar-registration", "Save your seat",
             "Register", "/webinars", ("email", "first_name", "last_name", "company_name",
                                       "title")),
    FormPlan("demo", "Request a demo", "request-a-demo", "See Tandem with your own funnel",
             "Request a demo", "/demo", ("email", "first_name", "last_name", "company_name",
                                         "title", "phone"), hand_raise=True),
    FormPlan("contact", "Contact us", "contact-us", "Talk to us", "Send", "/contact",
             ("email", "first_name", "last_name", "company_name", "message")),
)

CONSENT_TEXTS: tuple[str, ...] = (
    "I agree that Tandem Demo Inc. may store my details and email me about its products. I can "
    "unsubscribe at any time.",
    "I agree that Tandem Demo Inc. stores the details I entered and emails me about its "
    "products and events, as described in the privacy notice (version 2). I can withdraw this "
    "consent at any time with the unsubscribe link in every email.",
)
CONSENT_CHANGE_DAY = 270  # v2 replaces v1 this many days after the demo's start

CONTACT_MESSAGES: tuple[str, ...] = (
    "Do you support self-hosting on our own Kubernetes cluster?",
    "We are 40 people and outgrowing spreadsheets. What does onboarding look like?",
    "Can we import our HubSpot history, including lifecycle stages?",
    "Is there a discount for non-profits?",
    "Please send your security documentation and a sample DPA.",
)

# Where a channel's visits land (an email click lands on its link; content on its asset).
LANDING_PAGES: dict[str, tuple[str, ...]] = {
    "organic_search": ("/", "/product", "/blog/what-is-an-mql", "/blog/five-funnel-metrics",
                       "/blog/attribution-models-explained", "/blog/utm-tags-without-chaos"),
    "paid_search": ("/", "/pricing", "/lp/revenue-analytics", "/product"),
    "organic_social": ("/blog/sales-marketing-sla", "/customers", "/", "/blog/five-funnel-metrics"),
    "paid_social": ("/lp/funnel-playbook", "/webinars", "/customers"),
    "display": ("/", "/lp/revenue-analytics", "/product"),
    "referral": ("/", "/customers", "/pricing"),
    "partner": ("/integrations/hubsync", "/partners", "/"),
    "content": ("/resources/revenue-funnel-playbook", "/blog/lead-scoring-rules-or-predictive"),
    "webinar": ("/webinars",),
    "direct_mail": ("/playbook", "/gift"),
    "email": ("/",),
}

# Pages a visit moves on to after its landing page.
SITE_PAGES: tuple[tuple[str, float], ...] = (
    ("/pricing", 20), ("/product", 18), ("/product/attribution", 8), ("/product/lead-scoring", 7),
    ("/customers", 10), ("/integrations", 6), ("/security", 4), ("/about", 4), ("/blog", 8),
    ("/demo", 5),
)
DOCS_PAGES: tuple[str, ...] = (
    "/getting-started", "/tracking/script", "/api/events", "/forms/embed", "/imports/contacts",
    "/lifecycle/stages", "/analytics/attribution", "/admin/sso",
)
USER_AGENTS: tuple[tuple[str, float], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 45),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Safari/605.1.15", 25),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 10),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 15),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 5),
)
