"""Short news items written for the tag tests (one per IPTC theme), by the newsbeam authors."""

# theme slug -> (headline, body)
THEME_EXAMPLES = {
    "arts-culture-entertainment-media": (
        "Veteran director's new film tops the box office",
        "The drama, starring two Oscar-winning actors, took $40m in its opening weekend. "
        "Critics praised the screenplay and the soundtrack, and the studio is already planning a sequel. "
        "The film premiered at the Cannes festival in May.",
    ),
    "conflict-war-peace": (
        "Ceasefire collapses as artillery shelling resumes",
        "Troops on both sides of the front line exchanged artillery fire overnight, days after a truce was agreed. "
        "The army said two soldiers were killed and several wounded when rebel forces launched an offensive "
        "near the border. Peace talks are due to resume next week.",
    ),
    "crime-law-justice": (
        "Man jailed for life over jewellery shop murder",
        "A 34-year-old man has been sentenced to life in prison for the murder of a shop owner during a robbery. "
        "The jury at the crown court took four hours to reach a guilty verdict. "
        "Detectives said he was arrested after police traced the stolen rings.",
    ),
    "disaster-accident-emergency": (
        "Earthquake kills dozens, thousands left homeless",
        "A magnitude 6.8 earthquake struck the mountain region before dawn, flattening villages. "
        "Rescue teams are searching the rubble for survivors and the death toll is expected to rise. "
        "Aid agencies are sending tents to the displaced families.",
    ),
    "economy-business-finance": (
        "Retailer's profits jump as sales beat forecasts",
        "The supermarket chain reported a 12% rise in annual pre-tax profit to 2.1bn, helped by strong sales. "
        "Shares rose 4% after the chief executive raised the dividend and announced a share buyback. "
        "Analysts said the results showed the firm was winning market share.",
    ),
    "education": (
        "Schools to get more maths teachers under new plan",
        "Secondary schools will be able to recruit extra maths teachers, and pupils will sit a new exam at 16. "
        "Head teachers welcomed the change to the curriculum but warned that classroom budgets remain tight. "
        "Universities said students arrive without the skills they need.",
    ),
    "environment": (
        "Greenhouse gas emissions hit record as forests shrink",
        "Global carbon emissions rose again last year, and deforestation in the rainforest destroyed habitats "
        "for endangered species, environmental groups said. Scientists warned that climate change will "
        "accelerate unless fossil fuels are phased out and wildlife conservation is funded.",
    ),
    "health": (
        "Hospital waiting lists grow as flu outbreak spreads",
        "Doctors and nurses say hospitals are struggling with a surge of patients as the flu outbreak spreads. "
        "Health officials urged older people to get the vaccine, and GPs were told to prioritise "
        "patients with chronic diseases such as asthma and diabetes.",
    ),
    "human-interest": (
        "Britain's oldest woman celebrates 112th birthday",
        "Family and friends gathered at her care home to celebrate the birthday of the centenarian, "
        "who received a card from the King. She said the secret of a long life was a daily walk and her cat, "
        "and her great-grandchildren sang at the party to mark the anniversary.",
    ),
    "labour": (
        "Rail workers to strike over pay and job cuts",
        "The trade union said its members had voted for a walkout after talks with employers on wages broke down. "
        "The union wants a pay rise in line with inflation and guarantees against redundancies. "
        "Employers said the strike would hit thousands of workers and passengers.",
    ),
    "lifestyle-leisure": (
        "Ten city breaks for food lovers this autumn",
        "From tapas bars to family-run restaurants, these destinations are a treat for travellers who love cooking. "
        "Our guide picks hotels near the best markets, a vineyard tour with wine tasting and a chef's recipe "
        "to try at home after your holiday.",
    ),
    "politics": (
        "Prime minister faces rebellion over election pledge",
        "Dozens of MPs from the governing party have threatened to vote against the bill in parliament, "
        "arguing it breaks a manifesto promise. The opposition leader called on the government to "
        "drop the plan before the general election.",
    ),
    "religion": (
        "Pope calls for prayer as pilgrims gather in Rome",
        "Thousands of Catholic pilgrims gathered for the Easter mass, where the pope urged believers "
        "of every faith to pray for peace. Bishops from across the world joined the service at the cathedral, "
        "and church leaders met imams and rabbis afterwards.",
    ),
    "science-technology": (
        "Astronomers find water on a distant planet",
        "Scientists using a space telescope have detected water vapour in the atmosphere of a planet orbiting "
        "a nearby star. The researchers, who published the study in a peer-reviewed journal, said the discovery "
        "would help the search for life beyond the solar system.",
    ),
    "society": (
        "Child poverty rises as families struggle with rents",
        "The number of children living in poverty has risen for a third year, a charity report says. "
        "Homelessness among families with young children has doubled, and campaigners called for more social housing "
        "and better welfare support to tackle inequality.",
    ),
    "sport": (
        "Late goal sends champions into cup final",
        "The striker scored in stoppage time to give the champions a 2-1 win in the semi-final. "
        "The manager praised his players after a tense second half in front of a full stadium, "
        "and the team will meet their league rivals in the final.",
    ),
    "weather": (
        "Heavy snow and icy winds to bring travel chaos",
        "Forecasters have issued an amber warning for snow and ice, with temperatures expected to fall to minus 10C. "
        "The Met Office said strong winds and blizzards could hit the north overnight, "
        "with more snowfall and freezing fog forecast for the weekend.",
    ),
}

# Headline plus a two-line feed summary, and the theme each should get first.
SHORT_ITEMS = [
    ("Striker's double seals title", "A second-half double sent the champions top of the league. The manager hailed his squad.", "sport"),
    ("Central bank holds interest rates", "Policymakers kept rates at 4.5% as inflation eased. Markets had expected the move.", "economy-business-finance"),
    ("Rebels seize town after heavy fighting", "Government troops withdrew after days of shelling. Thousands fled the area.", "conflict-war-peace"),
    ("New smartphone chip doubles battery life", "The processor will ship in handsets from next year, the company said.", "science-technology"),
    ("Voters head to the polls in tight election", "Opinion polls show the two main parties neck and neck. Turnout is expected to be high.", "politics"),
]
